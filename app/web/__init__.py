"""Transport only: parse, authorise, call one domain function, render."""
