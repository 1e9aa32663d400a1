"""casesystem connector: transport and local simulator."""
