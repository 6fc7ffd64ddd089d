using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>
    /// A content scanner (rspamd, clamd, or the verdict headers of a trusted MTA). Implementations are safe to
    /// call from several threads at once.
    /// </summary>
    public interface IContentScanner
    {
        /// <summary>Short name used in verdicts and the journal: <c>rspamd</c>, <c>clamd</c>, <c>mta-headers</c>.</summary>
        string Name { get; }

        /// <summary>Where it is reached (URL, socket), for messages; never contains a secret.</summary>
        string Address { get; }

        /// <summary>
        /// Scans one message. A scanner that cannot be reached, times out or answers with an error gives an
        /// <see cref="ScanVerdictKind.Unreachable"/> or <see cref="ScanVerdictKind.Error"/> verdict; no exception escapes
        /// except for cancellation.
        /// </summary>
        /// <param name="message">The message's original bytes, read from the current position to the end; not disposed.</param>
        /// <param name="envelope">What the receiving MTA knew (sender, recipients, client).</param>
        /// <param name="cancellationToken">Cancels the scan.</param>
        /// <returns>The verdict.</returns>
        /// <exception cref="System.ArgumentNullException"><paramref name="message"/> or <paramref name="envelope"/> is null.</exception>
        /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<ScanVerdict> ScanAsync(Stream message, ScanEnvelope envelope, CancellationToken cancellationToken);

        /// <summary>Checks that the scanner answers and returns its version.</summary>
        /// <param name="cancellationToken">Cancels the check.</param>
        /// <returns>The version text.</returns>
        /// <exception cref="ScannerUnavailableException">The scanner did not answer, or answered with an error.</exception>
        /// <exception cref="System.OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<string> GetVersionAsync(CancellationToken cancellationToken);
    }

    /// <summary>A scanner could not be reached or answered with an error (only from <see cref="IContentScanner.GetVersionAsync"/>).</summary>
    public sealed class ScannerUnavailableException : ReplyAdminException
    {
        /// <summary>Creates the error.</summary>
        public ScannerUnavailableException(string errorId, string message, string address, string recommendedAction, System.Exception inner = null)
            : base(errorId, ReplyAdminErrorKind.ConnectionError, message, address, recommendedAction, inner)
        {
        }
    }
}
