"""One servicer per proto service: request -> engine call -> response, nothing more."""
