"""The config service: the configuration centre (ConfigMaps and Secrets of project namespaces)."""
