"""Pure rules and data: no Flask, no database. Every layer above may use them."""
