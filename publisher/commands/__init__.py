"""One module per verb: each orchestrates one job, read → transform → write."""
