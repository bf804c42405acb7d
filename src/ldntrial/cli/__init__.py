"""The `ldntrial` command line: a thin shell over the library."""
