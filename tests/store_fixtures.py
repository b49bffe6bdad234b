"""Store fixtures (embedded pyoxigraph and a real `oxigraph serve` process)."""
