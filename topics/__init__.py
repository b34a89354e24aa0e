"""The contract between crowdstream processes: topic names and specs, record schemas,
keys and partitioning, serialization and topic creation. No Faust or FastAPI imports."""
