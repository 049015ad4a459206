"""The demo app: models, seed data, demo views and the catalogue that describes them."""
