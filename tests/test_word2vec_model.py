"""Word2Vec end to end: a ~1M-token CI run, queries and evaluations equal gensim's on the same vectors,
word2vec files round-trip with gensim, bad input raises a clear error and leaves nothing half-written."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from minembed.word2vec import KeyedVectors, UnknownWordError, Word2Vec, load_word2vec_format
from reference import gensim_ref
from reference.shared import corpus_paths


@pytest.fixture(scope="module")
def trained():
    """CBOW, 1 epoch, d=32 on the King James Bible and War and Peace (~1.35M tokens), on one worker.

    One worker trains the same vectors every run. With two, Hogwild's interleaving changes them from
    run to run, and "daughter"'s 20 nearest words (all at cosine 0.94-0.97 here) then held no family
    word in about one CI run in four. test_token_id_arrays_and_files_train trains on two workers."""
    paths = [p for p in corpus_paths() if p.name in ("kjv.txt", "warpeace.txt")]
    sentences = gensim_ref.corpus_sentences(paths)
    losses = []

    class Record:
        def on_epoch_end(self, model):
            losses.append(model.loss_history[-1])

    model = Word2Vec(sentences, vector_size=32, epochs=1, workers=1, callbacks=[Record()])
    return model, sentences, losses


@pytest.fixture(scope="module")
def pair(trained):
    model = trained[0]
    return model.wv, gensim_ref.keyed_vectors(model.wv.index_to_key, model.wv.vectors)


def test_training_on_a_million_tokens_learns_related_words(trained):
    model, sentences, losses = trained
    assert sum(map(len, sentences)) > 1_000_000
    assert len(losses) == 1 and np.isfinite(losses[0]) and losses[0] > 0
    assert model.loss_history == losses
    wv = model.wv
    assert model.input_embedding.weight is wv.vectors  # the table itself, not a copy
    assert np.abs(model.output_embedding.weight).sum() > 0
    # words of one kind sit closer than unrelated words
    assert wv.similarity("father", "mother") > wv.similarity("father", "water")
    assert wv.similarity("king", "prince") > wv.similarity("king", "bread")
    neighbours = [w for w, _ in wv.most_similar("daughter", topn=20)]
    assert {"son", "wife", "sister", "mother", "brother"} & set(neighbours), neighbours


def test_loss_falls_between_epochs():
    paths = [p for p in corpus_paths() if p.name == "tinyshakespeare.txt"]
    model = Word2Vec(gensim_ref.corpus_sentences(paths), vector_size=16, epochs=3, sg=1, workers=1)
    first, _, last = model.loss_history
    assert last < first


def test_most_similar_and_friends_equal_gensim(pair):
    ours, theirs = pair
    for query in [
        {"positive": "king"},
        {"positive": ["king", "woman"], "negative": ["man"]},
        {"positive": [("god", 2.0), "heaven"], "negative": "earth", "topn": 7},
    ]:
        expected = theirs.most_similar(**query)
        got = ours.most_similar(**query)
        assert [w for w, _ in got] == [w for w, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-5, atol=1e-6)
    assert ours.similarity("lord", "god") == pytest.approx(float(theirs.similarity("lord", "god")), abs=1e-6)
    words = ["father", "mother", "son", "daughter", "sword"]
    assert ours.doesnt_match(words) == theirs.doesnt_match(words)


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_word_pair_evaluation_equals_gensim(pair, name):
    ours, theirs = pair
    path = gensim_ref.test_data(name)
    result = ours.evaluate_word_pairs(path)
    pearson, spearman, oov = gensim_ref.word_pairs(theirs, path)
    assert result.pearson == pytest.approx(pearson, abs=1e-6)
    assert result.spearman == pytest.approx(spearman, abs=1e-6)
    assert result.oov_ratio == pytest.approx(oov, abs=1e-9)


def test_analogy_evaluation_equals_gensim(pair, tmp_path):
    ours, theirs = pair
    lines = Path(gensim_ref.test_data("questions-words.txt")).read_text(encoding="utf-8").splitlines()
    subset = [line for i, line in enumerate(lines) if line.startswith(": ") or i % 10 == 0]
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(subset) + "\n", encoding="utf-8")
    for restrict in (300000, 2000):
        score, sections = ours.evaluate_word_analogies(str(path), restrict_vocab=restrict)
        expected_score, expected_sections = gensim_ref.analogies(theirs, str(path), restrict_vocab=restrict)
        assert score == pytest.approx(expected_score)
        assert [s["section"] for s in sections] == [s["section"] for s in expected_sections]
        assert [len(s["correct"]) for s in sections] == [len(s["correct"]) for s in expected_sections]
        assert [len(s["incorrect"]) for s in sections] == [len(s["incorrect"]) for s in expected_sections]
        if restrict == 300000:
            assert len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]) > 50


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_files_round_trip_with_gensim(pair, tmp_path, binary):
    ours, _ = pair
    path = tmp_path / "ours.vec"
    ours.save_word2vec_format(path, binary=binary)
    words, vectors = gensim_ref.load(path, binary=binary)
    assert words == ours.index_to_key
    np.testing.assert_array_equal(vectors, ours.vectors)
    gensim_path = tmp_path / "gensim.vec"
    gensim_ref.save(ours.index_to_key[:500], ours.vectors[:500] * 3, gensim_path, binary=binary)
    loaded = load_word2vec_format(gensim_path, binary=binary)
    assert loaded.index_to_key == ours.index_to_key[:500]
    np.testing.assert_array_equal(loaded.vectors, ours.vectors[:500] * 3)
    assert sorted(os.listdir(tmp_path)) == ["gensim.vec", "ours.vec"]  # no temporary files left


def test_word2vec_c_binary_with_newlines_loads(tmp_path):
    vectors = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = tmp_path / "c.bin"
    path.write_bytes(b"2 3\n" + b"alpha " + vectors[0].tobytes() + b"\n" + b"beta " + vectors[1].tobytes() + b"\n")
    loaded = load_word2vec_format(path, binary=True)
    assert loaded.index_to_key == ["alpha", "beta"]
    np.testing.assert_array_equal(loaded.vectors, vectors)


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("old")

    class FailsOnSecondPass(list):
        passes = 0

        def __iter__(self):
            type(self).passes += 1
            if type(self).passes == 2:  # the writing pass, after validation
                yield self[0]
                raise OSError("disk full")
            yield from list.__iter__(self)

    kv = KeyedVectors(["a", "b"], np.ones((2, 3), np.float32))
    kv.index_to_key = FailsOnSecondPass(["a", "b"])
    with pytest.raises(OSError, match="disk full"):
        kv.save_word2vec_format(path)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["vectors.txt"]


def test_project_2d_gives_coordinates(pair):
    ours, _ = pair
    words = ["father", "mother", "son", "king", "queen"]
    xy = ours.project_2d(words)
    assert xy.shape == (5, 2) and np.isfinite(xy).all()
    centred = ours.vectors[[ours.get_index(w) for w in words]].astype(np.float64)
    centred -= centred.mean(axis=0)
    # the first axis carries the most variance (PCA), and no other direction carries more
    assert xy[:, 0].var() >= xy[:, 1].var()
    direction = np.linalg.svd(centred)[2][0]
    assert np.allclose(np.abs(xy[:, 0]), np.abs(centred @ direction), atol=1e-6)


def test_token_id_arrays_and_files_train(tmp_path):
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 40, 30_000)  # one long sentence: longer than a batch, cut with overlap
    model = Word2Vec(stream, vector_size=8, min_count=1, epochs=1, workers=2)
    assert sorted(model.wv.index_to_key) == list(range(40))
    path = tmp_path / "corpus.txt"
    path.write_text("a b c d\nb c d e\n" * 200)
    from_file = Word2Vec(str(path), vector_size=8, min_count=1, epochs=1, workers=1)
    from_list = Word2Vec(
        [line.split() for line in path.read_text().splitlines()], vector_size=8, min_count=1, epochs=1, workers=1
    )
    np.testing.assert_array_equal(from_file.wv.vectors, from_list.wv.vectors)


@pytest.mark.parametrize(
    "sentences, params, message",
    [
        ([], {}, "empty"),
        ([[], []], {}, "empty"),
        ([["a", "b"]], {"min_count": 5}, "lower min_count"),
        ([["a", "b"]], {"window": 0}, "window"),
        ([["a", "b"]], {"negative": 0, "hs": 0}, "hs=1"),
        (["a sentence as a string"], {}, "split it first"),
        (iter([["a"]]), {}, "one-shot iterator"),
        ("/no/such/file.txt", {}, "not a file"),
        ([["a", "b"]], {"vector_size": 0}, "vector_size"),
    ],
)
def test_bad_input_raises_a_clear_error(sentences, params, message):
    with pytest.raises((ValueError, TypeError, FileNotFoundError), match=message):
        Word2Vec(sentences, **params)


def test_unknown_query_words_raise(pair):
    ours, _ = pair
    for call in (
        lambda: ours.most_similar("xyzzyq"),
        lambda: ours.similarity("king", "xyzzyq"),
        lambda: ours.doesnt_match(["king", "xyzzyq"]),
        lambda: ours["xyzzyq"],
    ):
        with pytest.raises(UnknownWordError, match="not in the vocabulary.*min_count"):
            call()


def test_long_sentences_are_cut_into_overlapping_segments_not_truncated():
    from itertools import count

    from minembed.word2vec.corpus import training_batches

    ids = np.arange(25_000, dtype=np.int32) % 7
    offsets = np.array([0, 3, 25_000], np.int64)  # a short sentence, then a 24,997-word one
    batches = list(training_batches((ids, offsets, 25_000), None, False, count(), window=5, batch_words=10_000))
    centres = []
    for batch in batches:
        for context_start, start, stop, context_stop in batch.segments:
            centres.extend(range(start, stop))
            window_words = batch.ids[context_start:context_stop]
            assert len(window_words) == (context_stop - context_start)
    assert len(centres) == 25_000  # every word is a centre exactly once
    assert sum(b.raw_words for b in batches) == pytest.approx(25_000)
    assert max(int((b.segments[:, 2] - b.segments[:, 1]).sum()) for b in batches) <= 10_000
    # the long sentence is cut twice; each cut leaves 5 words of context on its other side
    segments = [s for b in batches for s in b.segments]
    assert sum(s[1] - s[0] == 5 for s in segments) == 2
    assert sum(s[3] - s[2] == 5 for s in segments) == 2
