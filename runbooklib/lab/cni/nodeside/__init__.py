"""Code that runs on a lab node (stdlib only; also packed into the lab's multicall zipapp)."""
