"""One module per service whose resources heat makes (``heat``, ``neutron``, ``nova`` ...);
``registry`` imports every module here, so each type registers itself."""
