"""One module per service whose resources heat makes; importing this package registers
every type (``registry``)."""
