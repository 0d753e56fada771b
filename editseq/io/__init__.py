"""Records in (``records``) and outputs out (``outputs``): every file editseq reads or writes goes through here."""
