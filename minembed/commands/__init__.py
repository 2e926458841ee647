"""One module per `minembed` command: `add_arguments(parser)` declares its options and `run(args)`
calls the library and returns the exit status. minembed/cli.py lists them."""
