using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using MimeKit.Utils;
using ReplyAdmin.Engine.Classification;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Imap;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Smtp
{
    /// <summary>
    /// Forwards replies through the SMTP relay: the original message unchanged, with Resent-* headers and our
    /// loop guard added on top, sent with the configured envelope sender. One connection serves the whole run;
    /// the run's workers take turns on it.
    /// </summary>
    public sealed class SmtpForwarder : IReplyForwarder
    {
        private readonly SmtpRelaySettings _settings;
        private readonly NetworkCredential _credential;
        private readonly TimeSpan _timeout;
        private SmtpClient _client;
        private ReplyAdminException _unreachable;
        private readonly SemaphoreSlim _turn = new SemaphoreSlim(1, 1);
        private readonly RelaySigner _signer;

        /// <summary>Creates the forwarder; nothing connects until the first forward.</summary>
        /// <param name="settings">The relay.</param>
        /// <param name="credential">The relay login, or null when the relay needs none.</param>
        /// <param name="timeout">Time limit of every network operation.</param>
        /// <param name="signer">Signs every forward as the relay (DKIM and ARC); null sends forwards unsigned.</param>
        public SmtpForwarder(SmtpRelaySettings settings, NetworkCredential credential, TimeSpan timeout, RelaySigner signer = null)
        {
            _settings = settings;
            _credential = credential;
            _timeout = timeout;
            _signer = signer;
        }

        /// <inheritdoc />
        public async Task ForwardAsync(MimeMessage message, IReadOnlyList<string> recipients, CancellationToken cancellationToken, string authenticationResults = null)
        {
            await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await SendAsync(message, recipients, authenticationResults, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _turn.Release();
            }
        }

        private async Task SendAsync(MimeMessage message, IReadOnlyList<string> recipients, string authenticationResults, CancellationToken cancellationToken)
        {
            var where = $"{_settings.Host}:{_settings.Port}";
            var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            var sender = MailboxAddress.Parse(_settings.EnvelopeSender ?? recipients[0]);
            var added = AddResentHeaders(message, sender, recipients, ResentMessageId(message, recipients, sender.Domain, cancellationToken));
            try
            {
                if (_signer == null)
                {
                    await client.SendAsync(message, sender, recipients.Select(MailboxAddress.Parse), cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // Settle the transfer encodings the relay needs first (with 8BITMIME, 8-bit parts stay as they are, so the
                    // customer's own DKIM signature keeps verifying). Then sign a copy parsed from the exact bytes to be sent:
                    // a parsed message is written back byte for byte, so nothing MimeKit would re-format after signing (the
                    // top-level Content-* fields live in two places of a loaded message) can break the signature.
                    message.Prepare((client.Capabilities & SmtpCapabilities.EightBitMime) != 0 ? EncodingConstraint.EightBit : EncodingConstraint.SevenBit, 998);
                    var format = FormatOptions.Default.Clone();
                    format.NewLineFormat = NewLineFormat.Dos;
                    using (var wire = new MemoryStream())
                    {
                        await message.WriteToAsync(format, wire, cancellationToken).ConfigureAwait(false);
                        wire.Position = 0;
                        var outgoing = await MimeMessage.LoadAsync(ParserOptions.Default, wire, true, cancellationToken).ConfigureAwait(false);
                        await _signer.SignAsync(outgoing, authenticationResults, cancellationToken).ConfigureAwait(false);
                        await client.SendAsync(outgoing, sender, recipients.Select(MailboxAddress.Parse), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (SmtpCommandException e)
            {
                var permanent = (int)e.StatusCode >= 500;
                throw new ReplyAdminException(permanent ? ErrorIds.SmtpForwardRejected : ErrorIds.SmtpForwardDeferred,
                    permanent ? ReplyAdminErrorKind.InvalidData : ReplyAdminErrorKind.ResourceUnavailable,
                    $"The SMTP relay {where} {(permanent ? "refused" : "deferred")} the forward to {string.Join(", ", recipients)}: {(int)e.StatusCode} {e.Message}",
                    string.Join(", ", recipients),
                    permanent ? "Check the forward address and the relay's rules; the message stays at the source (stored, not yet forwarded)."
                              : "The relay asks to try later; the next run retries the forward without storing a second copy.", e);
            }
            catch (Exception e) when (e is SmtpProtocolException || e is IOException || e is ServiceNotConnectedException)
            {
                Drop();
                throw new ReplyAdminException(ErrorIds.SmtpConnectionLost, ReplyAdminErrorKind.ConnectionError,
                    $"The connection to the SMTP relay {where} broke during a forward: {e.Message}", where,
                    "The next run retries the forward without storing a second copy.", e);
            }
            finally
            {
                // The parsed message may be used again (e.g. stored after forwarding in a later version): leave it as read.
                foreach (var header in added) message.Headers.Remove(header);
            }
        }

        /// <summary>
        /// The Resent-Message-ID of a forward: derived from the message's content (as stored, see ContentFingerprint) and the
        /// recipients, so the same reply forwarded again (after a crash, or by the host that took over a dead host's lease)
        /// carries the same id, and the receiving side can recognise the repeat.
        /// </summary>
        internal static string ResentMessageId(MimeMessage message, IReadOnlyList<string> recipients, string domain, CancellationToken cancellationToken)
        {
            var content = Imap.ContentFingerprint.Of(message, cancellationToken).Hash;
            using (var sha = System.Security.Cryptography.SHA256.Create())
            {
                var to = System.Text.Encoding.UTF8.GetBytes("\n" + string.Join(",", recipients.Select(r => r.Trim().ToLowerInvariant()).OrderBy(r => r, StringComparer.Ordinal)));
                var input = new byte[content.Length + to.Length];
                Buffer.BlockCopy(content, 0, input, 0, content.Length);
                Buffer.BlockCopy(to, 0, input, content.Length, to.Length);
                var hash = sha.ComputeHash(input);
                return "fwd." + BitConverter.ToString(hash, 0, 16).Replace("-", "").ToLowerInvariant() + "@" + (string.IsNullOrEmpty(domain) ? "replyadmin.invalid" : domain);
            }
        }

        private static List<Header> AddResentHeaders(MimeMessage message, MailboxAddress sender, IReadOnlyList<string> recipients, string resentMessageId)
        {
            // RFC 5322 3.6.6: Resent-* fields are prepended as a block; the original headers stay as they were.
            var added = new List<Header>
            {
                new Header(LoopGuard.HeaderName, "1"),
                new Header(HeaderId.ResentMessageId, "<" + resentMessageId + ">"),
                new Header(HeaderId.ResentTo, string.Join(", ", recipients)),
                new Header(HeaderId.ResentFrom, sender.ToString()),
                new Header(HeaderId.ResentDate, DateUtils.FormatDate(DateTimeOffset.Now)),
            };
            foreach (var header in added) message.Headers.Insert(0, header);
            return added;
        }

        // Also used by RelayTester to check connection, TLS and login without sending.
        internal async Task<SmtpClient> ConnectAsync(CancellationToken cancellationToken)
        {
            if (_unreachable != null)
                throw _unreachable; // one failed connection per run is enough: later forwards fail fast with the same reason
            if (_client != null && _client.IsConnected)
                return _client;
            var where = $"{_settings.Host}:{_settings.Port}";
            var check = new CertificateCheck(_settings.CertificateThumbprint, _settings.Host);
            var client = new SmtpClient { Timeout = (int)_timeout.TotalMilliseconds, ServerCertificateValidationCallback = check.Validate, CheckCertificateRevocation = false };
            var options = _settings.TlsMode == SmtpTlsMode.Implicit ? SecureSocketOptions.SslOnConnect
                : _settings.TlsMode == SmtpTlsMode.StartTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None;
            try
            {
                await client.ConnectAsync(_settings.Host, _settings.Port, options, cancellationToken).ConfigureAwait(false);
                if (_credential is Authentication.OAuthCredential oauth)
                    await Authentication.OAuthSasl.AuthenticateAsync(client, oauth, _settings.Host, _settings.Port, cancellationToken).ConfigureAwait(false);
                else if (!string.IsNullOrEmpty(_settings.UserName) && _credential != null)
                    await client.AuthenticateAsync(_credential, cancellationToken).ConfigureAwait(false);
                _client = client;
                return client;
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                client.Dispose();
                var presented = check.Presented;
                // Implicit TLS against a relay that greets in plaintext: say so, as for IMAP, not MailKit's certificate text.
                var plaintext = options == SecureSocketOptions.SslOnConnect && !(e is AuthenticationException)
                    && await GreetsInPlaintextAsync(_settings.Host, _settings.Port).ConfigureAwait(false);
                _unreachable = plaintext
                    ? new ReplyAdminException(ErrorIds.SmtpPlaintextRefused, ReplyAdminErrorKind.SecurityError,
                        $"The SMTP relay {where} speaks plaintext SMTP on a port configured for implicit TLS. ReplyAdmin refuses it, because the login and the replies would cross the network unencrypted.",
                        where, "Use the relay's implicit-TLS port (465), or -TlsMode StartTls on its submission port (587).", e)
                    : e is ReplyAdminException noToken ? noToken // the token source's own reason and advice
                    : e is AuthenticationException && _credential is Authentication.OAuthCredential rejected
                    ? new ReplyAdminException(ErrorIds.SmtpOAuthTokenRejected, ReplyAdminErrorKind.AuthenticationError,
                        $"The SMTP relay {where} refused the {rejected.LastMechanism} login of '{_settings.UserName}' with a token from {rejected.Tokens.Source.Description}, also with a new token.", where,
                        "Check the app's permission SMTP.SendAsApp (or the user's SMTP.Send), that SMTP AUTH is enabled for the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false), and that the token is for this user.", e)
                    : e is AuthenticationException
                    ? new ReplyAdminException(ErrorIds.SmtpAuthenticationFailed, ReplyAdminErrorKind.AuthenticationError,
                        $"The SMTP relay {where} refused the login of '{_settings.UserName}'.", where, "Check the relay's user name and credential reference.", e)
                    : e is SslHandshakeException && presented != null && !presented.Trusted && !presented.Pinned
                    ? new ReplyAdminException(ErrorIds.SmtpCertificateUntrusted, ReplyAdminErrorKind.SecurityError,
                        $"The certificate of the SMTP relay {where} is not trusted ({presented.PolicyErrors}); SHA-256 thumbprint {presented.Thumbprint}.", where,
                        $"Use a trusted certificate, or pin it with Set-ReplySmtpRelay -CertificateThumbprint {presented.Thumbprint}.", e)
                    : e is SslHandshakeException || (e is NotSupportedException && options == SecureSocketOptions.StartTls)
                    ? new ReplyAdminException(ErrorIds.SmtpTlsFailed, ReplyAdminErrorKind.SecurityError,
                        $"TLS with the SMTP relay {where} failed: {e.Message}", where, "Check -TlsMode and the port (587 STARTTLS, 465 implicit TLS).", e)
                    : new ReplyAdminException(ErrorIds.SmtpRelayUnavailable, ReplyAdminErrorKind.ConnectionError,
                        $"The SMTP relay {where} cannot be reached: {e.Message}", where,
                        "Messages to forward stay at the source (stored once); the next run forwards them when the relay is back.", e);
                throw _unreachable;
            }
        }

        // After a failed handshake: does the port greet in plaintext ("220 ...")?
        private static async Task<bool> GreetsInPlaintextAsync(string host, int port)
        {
            try
            {
                using (var tcp = new TcpClient())
                {
                    var connect = tcp.ConnectAsync(host, port);
                    if (await Task.WhenAny(connect, Task.Delay(3000)).ConfigureAwait(false) != connect)
                        return false;
                    await connect.ConfigureAwait(false);
                    var buffer = new byte[64];
                    var read = tcp.GetStream().ReadAsync(buffer, 0, buffer.Length);
                    if (await Task.WhenAny(read, Task.Delay(3000)).ConfigureAwait(false) != read)
                        return false;
                    var greeting = System.Text.Encoding.ASCII.GetString(buffer, 0, await read.ConfigureAwait(false));
                    return greeting.StartsWith("220", StringComparison.Ordinal) || greeting.StartsWith("554", StringComparison.Ordinal);
                }
            }
            catch (Exception e) when (e is SocketException || e is IOException)
            {
                return false;
            }
        }

        private void Drop()
        {
            _client?.Dispose();
            _client = null;
        }

        /// <inheritdoc />
        public void Dispose()
        {
            if (_client == null) return;
            try
            {
                if (_client.IsConnected) _client.Disconnect(true);
            }
            catch (Exception e) when (e is IOException || e is SmtpProtocolException || e is SmtpCommandException || e is SocketException || e is OperationCanceledException)
            {
                // Already gone.
            }
            _client.Dispose();
        }
    }
}
