"""One module (or package) per component; none reads Settings."""
