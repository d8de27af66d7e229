"""How well: the metrics of a result against its reference, and its difference map."""
