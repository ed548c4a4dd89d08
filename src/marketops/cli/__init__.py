"""The command line: `marketops ...`."""
