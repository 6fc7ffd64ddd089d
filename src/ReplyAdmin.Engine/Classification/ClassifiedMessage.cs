using System;
using System.IO;
using System.Threading;
using MimeKit;

namespace ReplyAdmin.Engine.Classification
{
    /// <summary>
    /// A verdict with the subject and sender of the message it was given for: what a caller needs that names no
    /// MimeKit type (the cmdlets live in PowerShell's default load context, MimeKit in the module's own).
    /// </summary>
    public sealed class ClassifiedMessage
    {
        private ClassifiedMessage(HeaderList headers, ReplyClassification verdict)
        {
            Subject = HeaderValue(headers, "Subject");
            From = HeaderValue(headers, "From");
            Verdict = verdict;
        }

        /// <summary>The message's Subject header; empty when absent or undecodable.</summary>
        public string Subject { get; }

        /// <summary>The message's From header; empty when absent or undecodable.</summary>
        public string From { get; }

        /// <summary>The verdict.</summary>
        public ReplyClassification Verdict { get; }

        /// <summary>Classifies a stored message; see <see cref="MessageHeaderReader.ClassifyFile"/>.</summary>
        /// <param name="classifier">The classifier.</param>
        /// <param name="path">The file.</param>
        /// <returns>The verdict with subject and sender.</returns>
        /// <exception cref="IOException">The file cannot be read.</exception>
        /// <exception cref="UnauthorizedAccessException">Access to the file is denied.</exception>
        public static ClassifiedMessage FromFile(IReplyClassifier classifier, string path)
        {
            var verdict = MessageHeaderReader.ClassifyFile(classifier, path, out var headers);
            return new ClassifiedMessage(headers, verdict);
        }

        /// <summary>
        /// Classifies a parsed message: a MimeKit <c>MimeMessage</c>, either of the MimeKit this module loads or of
        /// another copy loaded in the same session (that one is written out and parsed again).
        /// </summary>
        /// <param name="classifier">The classifier.</param>
        /// <param name="message">The message object.</param>
        /// <returns>The verdict with subject and sender.</returns>
        /// <exception cref="ArgumentException"><paramref name="message"/> is not a MimeKit MimeMessage.</exception>
        public static ClassifiedMessage FromObject(IReplyClassifier classifier, object message)
        {
            if (classifier == null)
                throw new ArgumentNullException(nameof(classifier));
            var parsed = message as MimeMessage ?? FromOtherMimeKit(message);
            return new ClassifiedMessage(parsed.Headers, classifier.Classify(parsed.Headers, () => parsed));
        }

        // A MimeMessage of another MimeKit (another load context or version) is a different type: its WriteTo(Stream,
        // CancellationToken) gives the bytes, which this MimeKit parses.
        private static MimeMessage FromOtherMimeKit(object message)
        {
            var type = message?.GetType();
            var writeTo = type?.FullName == "MimeKit.MimeMessage"
                ? type.GetMethod("WriteTo", new[] { typeof(Stream), typeof(CancellationToken) })
                : null;
            if (writeTo == null)
                throw new ArgumentException(
                    $"A {type?.FullName ?? "null"} is not a MimeKit.MimeMessage. Pass a MimeMessage, or the message file with -LiteralPath.", nameof(message));
            var buffer = new MemoryStream();
            writeTo.Invoke(message, new object[] { buffer, CancellationToken.None });
            return MessageHeaderReader.ReadMessage(buffer);
        }

        private static string HeaderValue(HeaderList headers, string name)
        {
            try
            {
                return headers?[name] ?? string.Empty;
            }
            catch (Exception)
            {
                return string.Empty; // an undecodable header is shown as empty, never an error
            }
        }
    }
}
