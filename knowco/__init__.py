"""KnowCo orchestration: what the command line and the app share (opening the KG, demo data, jobs)."""
