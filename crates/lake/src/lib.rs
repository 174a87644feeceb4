//! secviz-lake stores events as Parquet datasets and answers SQL over them with DataFusion.
