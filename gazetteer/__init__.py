"""Offline gazetteer: French communes and postcodes resolved to points."""
