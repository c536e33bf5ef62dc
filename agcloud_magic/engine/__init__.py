"""The turn engine every face drives: the request description and its one validation, the
conversation tree, the turn driver with the one tool loop, attachments, interpolation and the
one owner of concurrency (a private loop thread plus worker threads)."""
