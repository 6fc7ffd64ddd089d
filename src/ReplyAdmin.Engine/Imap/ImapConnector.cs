using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
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
            : base(errorId, kind, message, target, recommendedAction, inner, FailureScope.Run) => Step = step;

        /// <summary>The step that failed.</summary>
        public ImapConnectionStep Step { get; }
    }

    /// <summary>
    /// Opens authenticated implicit-TLS IMAP connections and turns every way that can fail into an
    /// <see cref="ImapConnectionException"/> that says which step failed and what to do. Plaintext IMAP is refused.
    /// </summary>
    public static class ImapConnector
    {
        /// <summary>
        /// How many bytes are gathered before they go to the TLS stream. MailKit writes in 4 KB blocks, and every
        /// write to an <see cref="SslStream"/> becomes its own TLS record and send call; 64 KB become four full
        /// 16 KB records instead of sixteen 4 KB ones (see <see cref="CoalescingWriteStream"/>).
        /// </summary>
        internal const int WriteBufferSize = 64 * 1024;

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
            certificate = new CertificateCheck(endpoint.CertificateThumbprint, endpoint.Host);
            // No TLS settings here: MailKit gets a stream that is already secured (HandshakeAsync has them all).
            return new ReplyImapClient { Timeout = (int)endpoint.Timeout.TotalMilliseconds };
        }

        /// <summary>
        /// Opens the TCP connection and the TLS session, then lets MailKit read the greeting. ReplyAdmin owns the
        /// TLS stream (instead of MailKit's SslOnConnect) so that a <see cref="CoalescingWriteStream"/> can sit
        /// between MailKit and the TLS stream; MailKit sees an already secured stream.
        /// </summary>
        /// <returns>The TLS stream, for its protocol and cipher; the client owns and disposes it.</returns>
        internal static async Task<SslStream> ConnectAsync(ImapClient client, ImapEndpoint endpoint, CertificateCheck certificate, CancellationToken cancellationToken)
        {
            var where = $"{endpoint.Host}:{endpoint.Port}";
            IPAddress[] addresses;
            if (IPAddress.TryParse(endpoint.Host, out var literal))
                addresses = new[] { literal };
            else
            {
                try
                {
                    addresses = await Dns.GetHostAddressesAsync(endpoint.Host).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    throw new ImapConnectionException(ImapConnectionStep.Dns, ErrorIds.ImapHostNotFound, ReplyAdminErrorKind.ConnectionError,
                        $"The IMAP host name '{endpoint.Host}' could not be resolved: {e.Message}", endpoint.Host,
                        "Check the host name (-Host) and this machine's DNS settings.", e);
                }
            }

            Socket socket;
            try
            {
                socket = await ConnectSocketAsync(addresses, endpoint, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Connect, ErrorIds.ImapConnectFailed, ReplyAdminErrorKind.ConnectionError,
                    $"No connection to {where}: {e.Message}", where, "Check that the server runs and that the port and firewall are right.", e);
            }
            catch (TimeoutException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Connect, ErrorIds.ImapConnectTimeout, ReplyAdminErrorKind.OperationTimeout,
                    $"The server at {where} did not complete the connection within {endpoint.Timeout.TotalSeconds:0} s: {e.Message}", where,
                    "Check that the server is up and not overloaded, and that the port is the implicit-TLS port.", e);
            }

            var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), false, certificate.Validate);
            try
            {
                await HandshakeAsync(ssl, endpoint, certificate, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                ssl.Dispose();
                throw;
            }

            var stream = new CoalescingWriteStream(ssl, WriteBufferSize);
            try
            {
                // MailKit sets its timeouts on the stream and reads the greeting. SecureSocketOptions.None: the TLS
                // session is ours and already up (MailKit's IsSecure says false; nothing in ReplyAdmin reads it).
                await client.ConnectAsync(stream, endpoint.Host, endpoint.Port, SecureSocketOptions.None, cancellationToken).ConfigureAwait(false);
                return ssl;
            }
            catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested) || e is IOException || e is SocketException)
            {
                stream.Dispose();
                throw new ImapConnectionException(ImapConnectionStep.Connect, ErrorIds.ImapConnectTimeout, ReplyAdminErrorKind.OperationTimeout,
                    $"The server at {where} did not complete the connection within {endpoint.Timeout.TotalSeconds:0} s: {e.Message}", where,
                    "Check that the server is up and not overloaded, and that the port is the implicit-TLS port.", e);
            }
            catch (ImapProtocolException e)
            {
                stream.Dispose();
                throw new ImapConnectionException(ImapConnectionStep.Connect, ErrorIds.ImapProtocolError, ReplyAdminErrorKind.ConnectionError,
                    $"The server at {where} did not answer like an IMAP server: {e.Message}", where, "Check the host and port.", e);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }

        // The addresses in turn (as MailKit does), within endpoint.Timeout in all; a timeout is a TimeoutException.
        private static async Task<Socket> ConnectSocketAsync(IPAddress[] addresses, ImapEndpoint endpoint, CancellationToken cancellationToken)
        {
            if (addresses.Length == 0)
                throw new SocketException((int)SocketError.HostNotFound);
            using (var timeout = new CancellationTokenSource(endpoint.Timeout))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                for (var i = 0; ; i++)
                {
                    var socket = new Socket(addresses[i].AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    try
                    {
                        await socket.ConnectAsync(addresses[i], endpoint.Port, linked.Token).ConfigureAwait(false);
                        return socket;
                    }
                    catch (Exception e) when (linked.IsCancellationRequested)
                    {
                        socket.Dispose();
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new TimeoutException("The operation has timed out.", e);
                    }
                    catch (SocketException) when (i + 1 < addresses.Length)
                    {
                        socket.Dispose();
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                }
            }
        }

        // The TLS handshake, as MailKit's SslOnConnect did it (the system's protocols, no client certificate, the
        // certificate check as the only validation callback), within endpoint.Timeout. No revocation check: loopback
        // and private CAs publish no CRL; the chain itself is still checked.
        private static async Task HandshakeAsync(SslStream ssl, ImapEndpoint endpoint, CertificateCheck certificate, CancellationToken cancellationToken)
        {
            var where = $"{endpoint.Host}:{endpoint.Port}";
            using (var timeout = new CancellationTokenSource(endpoint.Timeout))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                try
                {
                    // The certificate check is the stream's validation callback (set where the stream is made).
                    var options = new SslClientAuthenticationOptions
                    {
                        TargetHost = endpoint.Host,
                        EnabledSslProtocols = System.Security.Authentication.SslProtocols.None,
                        CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                    };
                    await ssl.AuthenticateAsClientAsync(options, linked.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The connection attempt was canceled.", e, cancellationToken);
                }
                catch (Exception e) when (timeout.IsCancellationRequested)
                {
                    // A server that accepts the connection and never answers: a timeout, not a TLS problem.
                    throw new ImapConnectionException(ImapConnectionStep.Connect, ErrorIds.ImapConnectTimeout, ReplyAdminErrorKind.OperationTimeout,
                        $"The server at {where} accepted the connection but did not complete the TLS handshake within {endpoint.Timeout.TotalSeconds:0} s.", where,
                        "Check that the server is up and not overloaded, and that the port is the implicit-TLS port.", e);
                }
                catch (Exception e) when (Innermost(e) is SocketException)
                {
                    // Reset during the handshake: the server is going down (or a firewall cut in), not a certificate problem.
                    throw new ImapConnectionException(ImapConnectionStep.Connect, ErrorIds.ImapConnectFailed, ReplyAdminErrorKind.ConnectionError,
                        $"The server at {where} closed the connection during the TLS handshake: {Innermost(e).Message}", where,
                        "Check that the server runs; the messages stay at the source and the next run retries them.", e);
                }
                catch (Exception e)
                {
                    if (await SpeaksPlaintextAsync(endpoint).ConfigureAwait(false))
                        throw new ImapConnectionException(ImapConnectionStep.Tls, ErrorIds.ImapPlaintextRefused, ReplyAdminErrorKind.SecurityError,
                            $"The server at {where} speaks plaintext IMAP. ReplyAdmin refuses plaintext IMAP, because it would send the password and the replies unencrypted.",
                            where, "Use the server's implicit-TLS port (993) and make sure it offers TLS there.", e);
                    var presented = certificate.Presented;
                    if (presented != null && !presented.Trusted && !presented.Pinned)
                        throw new ImapConnectionException(ImapConnectionStep.Tls, ErrorIds.ImapCertificateUntrusted, ReplyAdminErrorKind.SecurityError,
                            $"The certificate of {where} is not trusted ({presented.PolicyErrors}); subject '{presented.Subject}', SHA-256 thumbprint {presented.Thumbprint}.",
                            where, "Install a certificate from a trusted authority for this host name, or, if this is the server you mean, pin its certificate with -CertificateThumbprint " + presented.Thumbprint + ".", e);
                    throw new ImapConnectionException(ImapConnectionStep.Tls, ErrorIds.ImapTlsFailed, ReplyAdminErrorKind.SecurityError,
                        $"The TLS handshake with {where} failed: {Innermost(e).Message}", where,
                        "Check that the port offers implicit TLS (993) and a TLS version this machine supports.", e);
                }
            }
        }

        internal static async Task AuthenticateAsync(ImapClient client, ImapEndpoint endpoint, NetworkCredential credential, CancellationToken cancellationToken)
        {
            // MailKit can bind a SCRAM-*-PLUS login only to a TLS stream of its own; ours gives it no channel binding,
            // so the same mechanism without -PLUS is used (the strict certificate check guards the channel).
            foreach (var mechanism in client.AuthenticationMechanisms.Where(m => m.EndsWith("-PLUS", StringComparison.OrdinalIgnoreCase)).ToList())
                client.AuthenticationMechanisms.Remove(mechanism);
            try
            {
                if (credential is Authentication.OAuthCredential oauth)
                    await Authentication.OAuthSasl.AuthenticateAsync(client, oauth, endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
                else
                    await client.AuthenticateAsync(credential, cancellationToken).ConfigureAwait(false);
            }
            catch (AuthenticationException e) when (credential is Authentication.OAuthCredential oauth)
            {
                throw new ImapConnectionException(ImapConnectionStep.Authentication, ErrorIds.ImapOAuthTokenRejected, ReplyAdminErrorKind.AuthenticationError,
                    $"The server {endpoint.Host}:{endpoint.Port} refused the {oauth.LastMechanism} login of '{endpoint.UserName}' with a token from {oauth.Tokens.Source.Description}, also with a new token.",
                    endpoint.UserName, "Check that the token is for this mailbox and server: the app's permission (IMAP.AccessAsApp, its service principal in Exchange and Add-MailboxPermission for this mailbox), or the delegated user's access to it.", e);
            }
            catch (ReplyAdminException e) when (credential is Authentication.OAuthCredential && !(e is ImapConnectionException))
            {
                // No token: the login step failed, for the reason and with the advice of the token source.
                throw new ImapConnectionException(ImapConnectionStep.Authentication, e.ErrorId, e.Kind, e.Message, e.Target, e.RecommendedAction, e);
            }
            catch (AuthenticationException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Authentication, ErrorIds.ImapAuthenticationFailed, ReplyAdminErrorKind.AuthenticationError,
                    $"The server {endpoint.Host}:{endpoint.Port} refused the login of '{endpoint.UserName}'.", endpoint.UserName,
                    "Check the user name and the password the credential reference points to (or pass -Credential).", e);
            }
            catch (Exception e) when (e is TimeoutException || e is IOException || e is ImapProtocolException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new ImapConnectionException(ImapConnectionStep.Authentication, ErrorIds.ImapConnectionLost, ReplyAdminErrorKind.ConnectionError,
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
                throw new ImapConnectionException(ImapConnectionStep.Folder, ErrorIds.ImapFolderNotFound, ReplyAdminErrorKind.ObjectNotFound,
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

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }
    }
}
