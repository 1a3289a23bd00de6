"""Which connector reads a resource's files: department classes, their registry and
the profiles (接入配置) that replace their declarations."""
