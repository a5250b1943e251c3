//! AWS errors, mapped once: every failed call becomes an [`AwsError`] naming the service, the
//! operation and AWS's error code, with a kind the resources branch on.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;

/// What kind of failure, as far as a resource cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object does not exist.
    NotFound,
    /// The object exists already.
    AlreadyExists,
    /// The caller may not do this.
    AccessDenied,
    /// Rate limited (retried before surfacing).
    Throttled,
    /// A concurrent change got in the way (retried before surfacing).
    ConcurrentModification,
    /// The service failed (5xx; retried before surfacing).
    ServiceFailure,
    /// The request never got an answer (connection, timeout; retried before surfacing).
    Transport,
    /// The request was refused as invalid.
    InvalidInput,
    /// Anything else.
    Other,
}

/// A failed AWS call.
#[derive(Debug, Clone)]
pub struct AwsError {
    /// Service name, e.g. `lakeformation`.
    pub service: &'static str,
    /// Operation name, e.g. `CreateLFTag`.
    pub operation: &'static str,
    /// AWS's error code, when the service answered with one.
    pub code: Option<String>,
    /// AWS's message, or a description of the transport failure.
    pub message: String,
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The classification.
    pub kind: ErrorKind,
}

impl AwsError {
    /// Maps an SDK error.
    pub fn from_sdk<E>(
        service: &'static str,
        operation: &'static str,
        err: &SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let (code, message) = match err {
            SdkError::ServiceError(e) => (
                e.err().code().map(str::to_string),
                e.err().message().map(str::to_string).unwrap_or_default(),
            ),
            SdkError::TimeoutError(_) => (None, "the request timed out".to_string()),
            SdkError::DispatchFailure(_) => (
                None,
                format!("the request could not be sent: {}", describe_chain(err)),
            ),
            SdkError::ResponseError(_) => (
                None,
                format!("the response could not be read: {}", describe_chain(err)),
            ),
            other => (other.code().map(str::to_string), describe_chain(other)),
        };
        let kind = classify(code.as_deref(), status, err);
        Self {
            service,
            operation,
            code,
            message,
            status,
            kind,
        }
    }

    /// True for failures worth retrying with backoff.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Throttled
                | ErrorKind::ConcurrentModification
                | ErrorKind::ServiceFailure
                | ErrorKind::Transport
        )
    }

    /// True when the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// True when the object exists already.
    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} failed", self.service, self.operation)?;
        match (&self.code, self.status) {
            (Some(code), Some(status)) => write!(f, " ({code}, HTTP {status})")?,
            (Some(code), None) => write!(f, " ({code})")?,
            (None, Some(status)) => write!(f, " (HTTP {status})")?,
            (None, None) => {}
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// The not-found idiom, written once: an AWS result whose "does not exist" is an answer, not an
/// error.
pub trait Found<T> {
    /// `Ok(Some(value))`, `Ok(None)` when the object does not exist, or the error.
    fn found(self) -> Result<Option<T>, AwsError>;

    /// `Ok(())` also when the object does not exist: for deletes, where gone is done.
    fn or_gone(self) -> Result<(), AwsError>
    where
        Self: Sized,
    {
        self.found().map(|_| ())
    }
}

impl<T> Found<T> for Result<T, AwsError> {
    fn found(self) -> Result<Option<T>, AwsError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

fn classify<E>(
    code: Option<&str>,
    status: Option<u16>,
    err: &SdkError<E, HttpResponse>,
) -> ErrorKind {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => return ErrorKind::Transport,
        SdkError::ResponseError(_) => return ErrorKind::Transport,
        _ => {}
    }
    if let Some(code) = code {
        if THROTTLING_CODES.contains(&code) {
            return ErrorKind::Throttled;
        }
        match code {
            "ConcurrentModificationException" | "OperationAbortedException" => {
                return ErrorKind::ConcurrentModification
            }
            "EntityNotFoundException"
            | "NoSuchEntity"
            | "NoSuchEntityException"
            | "NotFoundException"
            | "ResourceNotFoundException"
            | "NoSuchBucket"
            | "NoSuchKey"
            | "NotFound" => return ErrorKind::NotFound,
            "AlreadyExistsException"
            | "EntityAlreadyExists"
            | "EntityAlreadyExistsException"
            | "ResourceAlreadyExistsException"
            | "BucketAlreadyOwnedByYou"
            | "DuplicatePolicyException" => return ErrorKind::AlreadyExists,
            "AccessDeniedException"
            | "AccessDenied"
            | "UnauthorizedOperation"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "SignatureDoesNotMatch" => return ErrorKind::AccessDenied,
            "InvalidInputException"
            | "ValidationException"
            | "InvalidParameterValue"
            | "InvalidParameterException"
            | "MalformedPolicyDocumentException" => return ErrorKind::InvalidInput,
            "InternalServiceException"
            | "InternalFailure"
            | "InternalError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException" => return ErrorKind::ServiceFailure,
            _ => {}
        }
    }
    match status {
        Some(429) => ErrorKind::Throttled,
        Some(s) if s >= 500 => ErrorKind::ServiceFailure,
        Some(404) => ErrorKind::NotFound,
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(kind: ErrorKind) -> AwsError {
        AwsError {
            service: "glue",
            operation: "GetTable",
            code: None,
            message: String::new(),
            status: None,
            kind,
        }
    }

    #[test]
    fn found_turns_not_found_into_none_and_keeps_other_errors() {
        assert_eq!(Ok::<_, AwsError>(3).found().unwrap(), Some(3));
        assert_eq!(
            Err::<i32, _>(error(ErrorKind::NotFound)).found().unwrap(),
            None
        );
        let denied = Err::<i32, _>(error(ErrorKind::AccessDenied)).found();
        assert_eq!(denied.unwrap_err().kind, ErrorKind::AccessDenied);
        assert!(Err::<i32, _>(error(ErrorKind::NotFound)).or_gone().is_ok());
        assert!(Err::<i32, _>(error(ErrorKind::Throttled))
            .or_gone()
            .is_err());
    }
}
