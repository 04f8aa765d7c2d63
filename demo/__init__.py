"""Demo catalogue, accounts and requests for the embedded default (``make run``). It sits
below every other app because demo data touches all of them."""
