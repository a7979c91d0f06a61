"""The storage seam: the only package that builds SQL. Domain code calls its functions."""
