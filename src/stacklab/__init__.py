"""stacklab: the HA OpenStack lab in one process."""
