# sensorlake on Apache Spark: the backfill contract of src/backfill as a PySpark job (see src/spark/backfill_job.py).
