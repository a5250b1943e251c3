//! Storage formats of a product's files and the Hive classes Glue needs to read them.
//!
//! Athena, Spark and Redshift Spectrum read a Glue table through its storage descriptor, not the
//! files; a table with the wrong input format or SerDe is queryable but returns garbage or
//! errors, so these class names are fixed here once rather than left to configuration.

use std::fmt;
use std::str::FromStr;

/// A storage format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// Apache ORC.
    Orc,
    /// JSON lines.
    Json,
    /// Comma-separated values.
    Csv,
    /// Avro container files.
    Avro,
}

/// A Glue table's storage descriptor for one format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// `StorageDescriptor.InputFormat`.
    pub input_format: &'static str,
    /// `StorageDescriptor.OutputFormat`.
    pub output_format: &'static str,
    /// `SerdeInfo.SerializationLibrary`.
    pub serde_library: &'static str,
    /// `SerdeInfo.Parameters`, in a fixed order.
    pub serde_parameters: Vec<(&'static str, &'static str)>,
    /// The table's `classification` parameter, which Glue jobs and crawlers read.
    pub classification: &'static str,
}

const TEXT_INPUT: &str = "org.apache.hadoop.mapred.TextInputFormat";
const TEXT_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Format::Parquet,
        Format::Orc,
        Format::Json,
        Format::Csv,
        Format::Avro,
    ];

    /// The lowercase name: `parquet`, `orc`, `json`, `csv`, `avro`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Orc => "orc",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Avro => "avro",
        }
    }

    /// The storage descriptor Glue needs for this format.
    pub fn storage(&self) -> Storage {
        match self {
            Format::Parquet => Storage {
                input_format: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                output_format: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                serde_library: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                serde_parameters: vec![("serialization.format", "1")],
                classification: "parquet",
            },
            Format::Orc => Storage {
                input_format: "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
                output_format: "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
                serde_library: "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
                serde_parameters: vec![],
                classification: "orc",
            },
            Format::Json => Storage {
                input_format: TEXT_INPUT,
                output_format: TEXT_OUTPUT,
                serde_library: "org.openx.data.jsonserde.JsonSerDe",
                serde_parameters: vec![],
                classification: "json",
            },
            Format::Csv => Storage {
                input_format: TEXT_INPUT,
                output_format: TEXT_OUTPUT,
                serde_library: "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                serde_parameters: vec![("field.delim", ",")],
                classification: "csv",
            },
            Format::Avro => Storage {
                input_format: "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
                output_format: "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
                serde_library: "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
                serde_parameters: vec![],
                classification: "avro",
            },
        }
    }

    /// The format a storage descriptor describes, by its SerDe (for reading a table back).
    pub fn from_serde_library(library: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.storage().serde_library == library)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(format) = Format::ALL.into_iter().find(|f| f.as_str() == s) {
            return Ok(format);
        }
        let names = Format::ALL
            .iter()
            .map(|f| format!("\"{f}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
        {
            Some(format) => Err(format!(
                "format \"{s}\" must be written in lowercase: \"{format}\""
            )),
            None => Err(format!("unknown format \"{s}\"; use one of {names}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
            assert_eq!(format.storage().classification, format.as_str());
            assert_eq!(
                Format::from_serde_library(format.storage().serde_library),
                Some(format)
            );
        }
        assert!("Parquet"
            .parse::<Format>()
            .is_err_and(|e| e.contains("lowercase: \"parquet\"")));
        assert!("delta"
            .parse::<Format>()
            .is_err_and(|e| e.starts_with("unknown format \"delta\"; use one of \"parquet\"")));
    }

    #[test]
    fn storage_descriptors() {
        let parquet = Format::Parquet.storage();
        assert_eq!(
            parquet.input_format,
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
        );
        assert_eq!(
            parquet.serde_library,
            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        );
        let csv = Format::Csv.storage();
        assert_eq!(csv.input_format, "org.apache.hadoop.mapred.TextInputFormat");
        assert_eq!(
            csv.output_format,
            "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
        );
        assert_eq!(csv.serde_parameters, vec![("field.delim", ",")]);
        assert_eq!(
            Format::Json.storage().serde_library,
            "org.openx.data.jsonserde.JsonSerDe"
        );
        assert_eq!(
            Format::Orc.storage().output_format,
            "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat"
        );
        assert_eq!(
            Format::Avro.storage().input_format,
            "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat"
        );
        assert_eq!(
            Format::Avro.storage().serde_library,
            "org.apache.hadoop.hive.serde2.avro.AvroSerDe"
        );
    }
}
