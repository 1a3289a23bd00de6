"""The rule engine (研判): pure level functions and the evaluation of touched points."""
