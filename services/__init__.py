"""The suite's services, one folder each; they never import each other."""
