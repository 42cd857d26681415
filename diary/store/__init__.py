"""All SQL lives in this package: parameterised queries, one module per feature, handed times."""
