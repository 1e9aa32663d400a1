"""filedrop connector: transport and local simulator."""
