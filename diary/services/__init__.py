"""Use cases: each public function is one transaction that writes its own audit row."""
