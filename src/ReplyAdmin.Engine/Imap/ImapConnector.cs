using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>The step of reaching an IMAP folder that failed.</summary>
    public enum ImapConnectionStep
    {
        /// <summary>Nothing failed.</summary>
        None,
        /// <summary>The host name did not resolve.</summary>
        Dns,
        /// <summary>No TCP connection (refused, unreachable, timed out).</summary>
        Connect,
        /// <summary>The TLS handshake failed: untrusted certificate, or the server speaks plaintext.</summary>
        Tls,
        /// <summary>The server refused the login.</summary>
        Authentication,
        /// <summary>The folder is missing or cannot be written.</summary>
        Folder,
    }

    /// <summary>A failure to reach an IMAP folder, naming the step that failed.</summary>
    public sealed class ImapConnectionException : ReplyAdminException
    {
        internal ImapConnectionException(ImapConnectionStep step, string errorId, ReplyAdminErrorKind kind, string message,
            object target, string recommendedAction, Exception inner = null)
            : base(errorId, kind, message, target, recommendedAction, inner) => Step = step;

        /// <summary>The step that failed.</summary>
        public ImapConnectionStep Step { get; }
    }

    /// <summary>
    /// Opens authenticated implicit-TLS IMAP connections and turns every way that can fail into an
    /// <see cref="ImapConnectionException"/> that says which step failed and what to do. Plaintext IMAP is refused.
    /// </summary>
    public static class ImapConnector
    {
        /// <summary>Connects, validates the certificate and authenticates.</summary>
        /// <param name="endpoint">Server, port, user, pinned certificate and timeout.</param>
        /// <param name="credential">The login; its password is never put in a message.</param>
        /// <param name="cancellationToken">Cancels the connection attempt.</param>
        /// <returns>An authenticated client; the caller disposes it.</returns>
        /// <exception cref="ImapConnectionException">A step failed.</exception>
        public static async Task<ImapClient> ConnectAsync(ImapEndpoint endpoint, NetworkCredential credential, CancellationToken cancellationToken)
        {
            var client = CreateClient(endpoint, out var certificate);
            try
            {
                await ConnectAsync(client, endpoint, certificate, cancellationToken).ConfigureAwait(false);
                await AuthenticateAsync(client, endpoint, credential, cancellationToken).ConfigureAwait(false);
                return client;
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        internal static ImapClient CreateClient(ImapEndpoint endpoint, out CertificateCheck certificate)
        {
            var check = new CertificateCheck(endpoint.CertificateThumbprint);
            certificate = check;
            return new ImapClient
            {
                Timeout = (int)endpoint.Timeout.TotalMilliseconds,
                ServerCertificateValidationCallback = check.Validate,
                CheckCertificateRevocation = false, // loopback and private CAs publish no CRL; the chain itself is still checked
            };
        }

        internal static async Task ConnectAsync(ImapClient client, ImapEndpoint endpoint, CertificateCheck certificate, CancellationToken cancellationToken)
        {
            var where = $"{endpoint.Host}:{endpoint.Port}";
            if (Uri.CheckHostName(endpoint.Host) == UriHostNameType.Dns)
            {
                try
                {
                    await Dns.GetHostAddressesAsync(endpoint.Host).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    throw new ImapConnectionException(ImapConnectionStep.Dns, "ImapHostNotFound", ReplyAdminErrorKind.ConnectionError,
                        $"The IMAP host name '{endpoint.Host}' could not be resolved: {e.Message}", endpoint.Host,
                        "Check the host name (-Host) and this machine's DNS settings.", e);
                }
            }
            try
            {
                await client.ConnectAsync(endpoint.Host, endpoint.Port, SecureSocketOptions.SslOnConnect, cancellationToken).ConfigureAwait(false);
            }
            catch (SslHandshakeException e) when (IsTimeout(e) && !cancellationToken.IsCancellationRequested)
            {
                // A server that accepts the connection and never answers: a timeout, not a TLS problem.
                throw new ImapConnectionException(ImapConnectionStep.Connect, "ImapConnectTimeout", ReplyAdminErrorKind.OperationTimeout,
                    $"The server at {where} accepted the connection but did not complete the TLS handshake within {endpoint.Timeout.TotalSeconds:0} s.", where,
                    "Check that the server is up and not overloaded, and that the port is the implicit-TLS port.", e);
            }
            catch (SslHandshakeException e) when (Innermost(e) is SocketException && !cancellationToken.IsCancellationRequested)
            {
                // Reset during the handshake: the server is going down (or a firewall cut in), not a certificate problem.
                throw new ImapConnectionException(ImapConnectionStep.Connect, "ImapConnectFailed", ReplyAdminErrorKind.ConnectionError,
                    $"The server at {where} closed the connection during the TLS handshake: {Innermost(e).Message}", where,
                    "Check that the server runs; the messages stay at the source and the next run retries them.", e);
            }
            catch (SslHandshakeException e)
            {
                if (await SpeaksPlaintextAsync(endpoint).ConfigureAwait(false))
                    throw new ImapConnectionException(ImapConnectionStep.Tls, "ImapPlaintextRefused", ReplyAdminErrorKind.SecurityError,
                        $"The server at {where} speaks plaintext IMAP. ReplyAdmin refuses plaintext IMAP, because it would send the password and the replies unencrypted.",
                        where, "Use the server's implicit-TLS port (993) and make sure it offers TLS there.", e);
                var presented = certificate.Presented;
                if (presented != null && !presented.Trusted && !presented.Pinned)
                    throw new ImapConnectionException(ImapConnectionStep.Tls, "ImapCertificateUntrusted", ReplyAdminErrorKind.SecurityError,
                        $"The certificate of {where} is not trusted ({presented.PolicyErrors}); subject '{presented.Subject}', SHA-256 thumbprint {presented.Thumbprint}.",
                        where, "Install a certificate from a trusted authority for this host name, or, if this is the server you mean, pin its certificate with -CertificateThumbprint " + presented.Thumbprint + ".", e);
                throw new ImapConnectionException(ImapConnectionStep.Tls, "ImapTlsFailed", ReplyAdminErrorKind.SecurityError,
                    $"The TLS handshake with {where} failed: {Innermost(e).Message}", where,
                    "Check that the port offers implicit TLS (993) and a TLS version this machine supports.", e);
            }
            catch (SocketException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Connect, "ImapConnectFailed", ReplyAdminErrorKind.ConnectionError,
                    $"No connection to {where}: {e.Message}", where, "Check that the server runs and that the port and firewall are right.", e);
            }
            catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested) || e is IOException)
            {
                throw new ImapConnectionException(ImapConnectionStep.Connect, "ImapConnectTimeout", ReplyAdminErrorKind.OperationTimeout,
                    $"The server at {where} did not complete the connection within {endpoint.Timeout.TotalSeconds:0} s: {e.Message}", where,
                    "Check that the server is up and not overloaded, and that the port is the implicit-TLS port.", e);
            }
            catch (ImapProtocolException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Connect, "ImapProtocolError", ReplyAdminErrorKind.ConnectionError,
                    $"The server at {where} did not answer like an IMAP server: {e.Message}", where, "Check the host and port.", e);
            }
        }

        internal static async Task AuthenticateAsync(ImapClient client, ImapEndpoint endpoint, NetworkCredential credential, CancellationToken cancellationToken)
        {
            try
            {
                await client.AuthenticateAsync(credential, cancellationToken).ConfigureAwait(false);
            }
            catch (AuthenticationException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Authentication, "ImapAuthenticationFailed", ReplyAdminErrorKind.AuthenticationError,
                    $"The server {endpoint.Host}:{endpoint.Port} refused the login of '{endpoint.UserName}'.", endpoint.UserName,
                    "Check the user name and the password the credential reference points to (or pass -Credential).", e);
            }
            catch (Exception e) when (e is TimeoutException || e is IOException || e is ImapProtocolException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new ImapConnectionException(ImapConnectionStep.Authentication, "ImapConnectionLost", ReplyAdminErrorKind.ConnectionError,
                    $"The connection to {endpoint.Host}:{endpoint.Port} broke during login: {e.Message}", endpoint.Host, "Try again; check the server's log if it repeats.", e);
            }
        }

        /// <summary>Opens the endpoint's folder, mapping a missing folder to a clear error.</summary>
        internal static async Task<IMailFolder> GetFolderAsync(ImapClient client, string folderName, CancellationToken cancellationToken)
        {
            try
            {
                return await client.GetFolderAsync(folderName, cancellationToken).ConfigureAwait(false);
            }
            catch (FolderNotFoundException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Folder, "ImapFolderNotFound", ReplyAdminErrorKind.ObjectNotFound,
                    $"The folder '{folderName}' does not exist on the server.", folderName,
                    "Create the folder (in a mail client or with the server's tools), or correct -Folder.", e);
            }
        }

        // After a failed handshake: does the port greet in plaintext ("* OK ...")? Then say so instead of "TLS failed".
        private static async Task<bool> SpeaksPlaintextAsync(ImapEndpoint endpoint)
        {
            try
            {
                using (var tcp = new TcpClient())
                {
                    var connect = tcp.ConnectAsync(endpoint.Host, endpoint.Port);
                    if (await Task.WhenAny(connect, Task.Delay(3000)).ConfigureAwait(false) != connect)
                        return false;
                    await connect.ConfigureAwait(false);
                    var stream = tcp.GetStream();
                    var buffer = new byte[64];
                    var read = stream.ReadAsync(buffer, 0, buffer.Length);
                    if (await Task.WhenAny(read, Task.Delay(3000)).ConfigureAwait(false) != read)
                        return false;
                    var greeting = Encoding.ASCII.GetString(buffer, 0, await read.ConfigureAwait(false));
                    return greeting.StartsWith("* OK", StringComparison.OrdinalIgnoreCase)
                        || greeting.StartsWith("* PREAUTH", StringComparison.OrdinalIgnoreCase)
                        || greeting.StartsWith("* BYE", StringComparison.OrdinalIgnoreCase);
                }
            }
            catch (Exception e) when (e is SocketException || e is IOException)
            {
                return false;
            }
        }

        private static bool IsTimeout(Exception e)
        {
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (inner is TimeoutException) return true;
            return false;
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }
    }
}
