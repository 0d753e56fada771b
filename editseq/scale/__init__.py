"""Scale-out backends (optional extra ``ray``): the same work, spread over a Ray cluster."""
