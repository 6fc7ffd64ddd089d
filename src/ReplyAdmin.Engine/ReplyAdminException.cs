using System;

namespace ReplyAdmin.Engine
{
    /// <summary>
    /// What kind of failure an engine error is. The cmdlet layer maps each value to one PowerShell
    /// <c>ErrorCategory</c>, so the engine stays free of PowerShell types.
    /// </summary>
    public enum ReplyAdminErrorKind
    {
        InvalidArgument,
        InvalidData,
        ObjectNotFound,
        ResourceExists,
        ConnectionError,
        AuthenticationError,
        SecurityError,
        LimitsExceeded,
        ResourceUnavailable,
        OperationTimeout,
        ReadError,
        WriteError,
        NotSpecified,
    }

    /// <summary>What a failure stops while processing replies.</summary>
    public enum FailureScope
    {
        /// <summary>Only the message at hand: it stays at the source and the run goes on with the others.</summary>
        Message,
        /// <summary>The whole run: a server cannot be reached, a folder is gone; every later message would fail alike.</summary>
        Run,
    }

    /// <summary>
    /// An engine failure with a stable <see cref="ErrorId"/>, a <see cref="Kind"/>, the object it concerns
    /// and what the administrator can do about it. Messages never contain passwords.
    /// </summary>
    public class ReplyAdminException : Exception
    {
        /// <summary>Creates an engine error.</summary>
        /// <param name="errorId">PascalCase <c>&lt;Noun&gt;&lt;Problem&gt;</c>, stable across versions.</param>
        /// <param name="kind">The failure kind.</param>
        /// <param name="message">What went wrong, in a sentence an administrator understands.</param>
        /// <param name="target">The object the error concerns (a list name, a file, a host).</param>
        /// <param name="recommendedAction">What to do about it.</param>
        /// <param name="innerException">The underlying exception, if any.</param>
        /// <param name="scope">Whether the failure ends the run or only concerns one message.</param>
        /// <param name="transient">
        /// Whether a later attempt may succeed without anyone changing anything (a connection lost, a 4xx answer, a full
        /// quota); null derives it from <paramref name="kind"/>: invalid data and unexpected failures are permanent.
        /// </param>
        public ReplyAdminException(string errorId, ReplyAdminErrorKind kind, string message, object target = null,
            string recommendedAction = null, Exception innerException = null, FailureScope scope = FailureScope.Message, bool? transient = null)
            : base(message, innerException)
        {
            ErrorId = errorId;
            Kind = kind;
            Target = target;
            RecommendedAction = recommendedAction;
            Scope = scope;
            Transient = transient ?? !(kind == ReplyAdminErrorKind.InvalidData || kind == ReplyAdminErrorKind.NotSpecified);
        }

        /// <summary>Stable identifier of this kind of error, e.g. <c>ListAddressDuplicate</c>.</summary>
        public string ErrorId { get; }

        /// <summary>The failure kind.</summary>
        public ReplyAdminErrorKind Kind { get; }

        /// <summary>The object the error concerns.</summary>
        public object Target { get; }

        /// <summary>What the administrator can do about it.</summary>
        public string RecommendedAction { get; }

        /// <summary>
        /// Whether the failure ends a processing run (<see cref="FailureScope.Run"/>) or only the message's handling. The
        /// adapter that raises it decides; the processor only reads it.
        /// </summary>
        public FailureScope Scope { get; }

        /// <summary>
        /// True when retrying later may succeed as things are; a message failing transiently is retried on every run and
        /// never set aside, a permanent failure counts an attempt towards the dead-letter place.
        /// </summary>
        public bool Transient { get; }
    }

    /// <summary>
    /// A configuration value that is missing or invalid, naming the field (e.g. <c>lists[1].address</c>)
    /// and, when loaded from disk, the file.
    /// </summary>
    public sealed class ConfigurationException : ReplyAdminException
    {
        /// <summary>Creates a configuration error.</summary>
        public ConfigurationException(string errorId, string field, string detail, object target = null,
            string recommendedAction = null, string filePath = null, Exception innerException = null,
            ReplyAdminErrorKind kind = ReplyAdminErrorKind.InvalidArgument)
            : base(errorId, kind, Compose(field, detail, filePath), target, recommendedAction, innerException)
        {
            Field = field;
            Detail = detail;
            FilePath = filePath;
        }

        /// <summary>The field at fault, as a JSON path without the leading <c>$.</c>.</summary>
        public string Field { get; }

        /// <summary>What is wrong with the field, without the file and field prefix.</summary>
        public string Detail { get; }

        /// <summary>The configuration file, when the error came from loading one.</summary>
        public string FilePath { get; }

        /// <summary>The same error, now naming the file it was found in.</summary>
        internal ConfigurationException InFile(string filePath) =>
            new ConfigurationException(ErrorId, Field, Detail, filePath, RecommendedAction, filePath, InnerException, Kind);

        private static string Compose(string field, string detail, string filePath)
        {
            var where = field == null ? string.Empty : $"'{field}': ";
            return filePath == null ? where + detail : $"Configuration file '{filePath}', {where}{detail}";
        }
    }
}
