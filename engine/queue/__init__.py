"""The review queue's ML on plain data: candidates (`candidates`), the opinions on each (`opinions`: the text
model's reading of names and sentences, the structural model, the graph's counts, patterns and cardinalities),
their combination and calibration (`combiner`), which way round a relation points (`direction`), what makes the
queue (`ranking`), the re-rank from verdicts (`verdict_model`), all under one recorded `QueuePolicy`
(`policy`). No database: the service layer reads the KG and writes the queue."""
