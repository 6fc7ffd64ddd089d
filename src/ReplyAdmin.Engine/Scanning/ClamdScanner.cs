using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>
    /// ClamAV's clamd over its socket protocol: <c>zINSTREAM</c> with length-prefixed chunks, over TCP or a Unix
    /// socket. clamd's size limit (StreamMaxLength) is answered as a <see cref="ScanVerdictKind.TooLarge"/> verdict.
    /// </summary>
    public sealed class ClamdScanner : IContentScanner
    {
        /// <summary>Bytes per INSTREAM chunk.</summary>
        public const int ChunkSize = 64 * 1024;

        private readonly EndPoint _endPoint;
        private readonly TimeSpan _timeout;
        private string _version;

        /// <summary>Creates a scanner for clamd at <paramref name="address"/>.</summary>
        /// <param name="address"><c>tcp://host:port</c>, <c>host:port</c>, <c>unix:/path</c> or an absolute socket path.</param>
        /// <param name="timeout">Time limit of one scan (connect, send, answer).</param>
        /// <exception cref="ArgumentException">The address is not one of these forms.</exception>
        public ClamdScanner(string address, TimeSpan timeout)
        {
            _endPoint = ParseAddress(address, out var display);
            Address = display;
            _timeout = timeout;
        }

        /// <inheritdoc />
        public string Name => "clamd";

        /// <inheritdoc />
        public string Address { get; }

        /// <summary>Reads a clamd address; the display form is <c>tcp://host:port</c> or <c>unix:/path</c>.</summary>
        /// <exception cref="ArgumentException">The address is not valid.</exception>
        public static EndPoint ParseAddress(string address, out string display)
        {
            if (string.IsNullOrWhiteSpace(address))
                throw new ArgumentException("A clamd address is required: tcp://host:port or unix:/path/to/clamd.ctl.", nameof(address));
            var text = address.Trim();
            if (text.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) || text.StartsWith("/", StringComparison.Ordinal))
            {
                var path = text.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) ? text.Substring(5) : text;
                if (path.StartsWith("//", StringComparison.Ordinal)) path = path.Substring(2); // unix:///run/... as a URL
                if (!path.StartsWith("/", StringComparison.Ordinal) || path.Length > 107)
                    throw new ArgumentException($"'{address}' is not an absolute Unix socket path (at most 107 characters).", nameof(address));
                display = "unix:" + path;
                return new UnixDomainSocketEndPoint(path);
            }
            if (text.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase)) text = text.Substring(6);
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(text.Substring(colon + 1), out var port) || port < 1 || port > 65535)
                throw new ArgumentException($"'{address}' is not a clamd address: give tcp://host:port (clamd's TCPSocket, 3310 by default) or unix:/path.", nameof(address));
            var host = text.Substring(0, colon).Trim('[', ']');
            if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
                throw new ArgumentException($"'{host}' in '{address}' is not a host name or IP address.", nameof(address));
            display = $"tcp://{text}";
            return IPAddress.TryParse(host, out var ip) ? (EndPoint)new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
        }

        /// <inheritdoc />
        public async Task<ScanVerdict> ScanAsync(Stream message, ScanEnvelope envelope, CancellationToken cancellationToken)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (envelope == null) throw new ArgumentNullException(nameof(envelope));
            var watch = Stopwatch.StartNew();
            string answer;
            try
            {
                answer = await ExchangeAsync("zINSTREAM\0", message, cancellationToken).ConfigureAwait(false);
            }
            catch (ScannerUnavailableException e)
            {
                return new ScanVerdict(Name, ScanVerdictKind.Unreachable, reason: e.Message, elapsed: watch.Elapsed);
            }
            return ParseAnswer(answer, _version, watch.Elapsed);
        }

        /// <summary>Reads clamd's answer to INSTREAM (<c>stream: OK</c>, <c>stream: NAME FOUND</c>, <c>... ERROR</c>).</summary>
        public static ScanVerdict ParseAnswer(string answer, string version = null, TimeSpan elapsed = default)
        {
            var text = (answer ?? "").TrimEnd('\0', '\n', '\r', ' ');
            if (text.IndexOf("size limit exceeded", StringComparison.OrdinalIgnoreCase) >= 0)
                return new ScanVerdict("clamd", ScanVerdictKind.TooLarge, version: version, reason: $"clamd: {text} (StreamMaxLength in clamd.conf)", elapsed: elapsed);
            if (text.EndsWith(" FOUND", StringComparison.Ordinal))
            {
                var name = text.Substring(0, text.Length - " FOUND".Length);
                var colon = name.IndexOf(": ", StringComparison.Ordinal);
                if (colon >= 0) name = name.Substring(colon + 2);
                return new ScanVerdict("clamd", ScanVerdictKind.Virus, virusName: name, version: version,
                    symbols: new[] { new ScanSymbol(name, 0) }, elapsed: elapsed);
            }
            if (text.EndsWith(": OK", StringComparison.Ordinal) || text == "OK")
                return new ScanVerdict("clamd", ScanVerdictKind.Clean, version: version, elapsed: elapsed);
            return new ScanVerdict("clamd", ScanVerdictKind.Error, version: version, reason: $"clamd answered '{text}'", elapsed: elapsed);
        }

        /// <inheritdoc />
        public async Task<string> GetVersionAsync(CancellationToken cancellationToken)
        {
            var answer = (await ExchangeAsync("zVERSION\0", null, cancellationToken).ConfigureAwait(false)).TrimEnd('\0', '\n', '\r', ' ');
            if (!answer.StartsWith("ClamAV", StringComparison.OrdinalIgnoreCase))
                throw new ScannerUnavailableException(ErrorIds.ClamdUnexpectedAnswer, $"clamd at {Address} answered VERSION with '{answer}'.", Address,
                    "Check that the address is clamd's TCPSocket or LocalSocket.");
            _version = answer;
            return answer;
        }

        /// <summary>Sends PING and expects PONG.</summary>
        /// <exception cref="ScannerUnavailableException">clamd did not answer PONG.</exception>
        public async Task PingAsync(CancellationToken cancellationToken)
        {
            var answer = (await ExchangeAsync("zPING\0", null, cancellationToken).ConfigureAwait(false)).TrimEnd('\0', '\n', '\r', ' ');
            if (answer != "PONG")
                throw new ScannerUnavailableException(ErrorIds.ClamdUnexpectedAnswer, $"clamd at {Address} answered PING with '{answer}'.", Address,
                    "Check that the address is clamd's TCPSocket or LocalSocket.");
        }

        private async Task<string> ExchangeAsync(string command, Stream body, CancellationToken cancellationToken)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            using (var socket = _endPoint is IPEndPoint || _endPoint is DnsEndPoint
                ? new Socket(SocketType.Stream, ProtocolType.Tcp)
                : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                timeout.CancelAfter(_timeout);
                // Small writes (command, last chunk) must not wait for delayed ACKs: with Nagle on, a 5 KB scan took 12 ms instead of 3.
                if (socket.AddressFamily != AddressFamily.Unix) socket.NoDelay = true;
                // Closing the socket is what unblocks a pending socket call on every runtime.
                using (timeout.Token.Register(() => socket.Dispose()))
                {
                    try
                    {
                        await Task.Factory.FromAsync(socket.BeginConnect, socket.EndConnect, _endPoint, null).ConfigureAwait(false);
                        using (var stream = new NetworkStream(socket, ownsSocket: false))
                        {
                            var commandBytes = Encoding.ASCII.GetBytes(command);
                            await stream.WriteAsync(commandBytes, 0, commandBytes.Length, timeout.Token).ConfigureAwait(false);
                            if (body != null)
                            {
                                var buffer = new byte[4 + ChunkSize];
                                while (true)
                                {
                                    var read = await ReadFullAsync(body, buffer, 4, ChunkSize, timeout.Token).ConfigureAwait(false);
                                    buffer[0] = (byte)(read >> 24); buffer[1] = (byte)(read >> 16); buffer[2] = (byte)(read >> 8); buffer[3] = (byte)read;
                                    try
                                    {
                                        await stream.WriteAsync(buffer, 0, 4 + read, timeout.Token).ConfigureAwait(false);
                                    }
                                    catch (IOException) when (socket.Available > 0 || socket.Poll(0, SelectMode.SelectRead))
                                    {
                                        // clamd answers "INSTREAM size limit exceeded" and closes while we still send: read its answer.
                                        break;
                                    }
                                    if (read == 0) break;
                                }
                            }
                            return await ReadAnswerAsync(stream, timeout.Token).ConfigureAwait(false);
                        }
                    }
                    catch (Exception e) when ((e is SocketException || e is IOException || e is ObjectDisposedException || e is OperationCanceledException)
                        && !cancellationToken.IsCancellationRequested)
                    {
                        var why = timeout.IsCancellationRequested ? $"did not answer within {_timeout.TotalSeconds:0.#} s" : "cannot be reached: " + e.Message;
                        throw new ScannerUnavailableException(e is SocketException && !timeout.IsCancellationRequested ? ErrorIds.ClamdUnreachable : ErrorIds.ClamdTimeout,
                            $"clamd at {Address} {why}", Address,
                            "Check that clamd is running (it needs a few seconds to load its signatures after a start) and listens on this address.", e);
                    }
                }
            }
        }

        private static async Task<int> ReadFullAsync(Stream source, byte[] buffer, int offset, int count, CancellationToken token)
        {
            var total = 0;
            while (total < count)
            {
                var n = await source.ReadAsync(buffer, offset + total, count - total, token).ConfigureAwait(false);
                if (n == 0) break;
                total += n;
            }
            return total;
        }

        private static async Task<string> ReadAnswerAsync(Stream stream, CancellationToken token)
        {
            // Answers of the z-commands end with NUL; clamd closes the connection after it.
            var answer = new MemoryStream();
            var buffer = new byte[1024];
            while (answer.Length < 64 * 1024)
            {
                int n;
                try
                {
                    n = await stream.ReadAsync(buffer, 0, buffer.Length, token).ConfigureAwait(false);
                }
                catch (IOException) when (answer.Length > 0)
                {
                    break; // a reset after the answer (clamd closing on a size error) loses nothing
                }
                if (n == 0) break;
                answer.Write(buffer, 0, n);
                if (buffer[n - 1] == 0) break;
            }
            if (answer.Length == 0)
                throw new IOException("clamd closed the connection without an answer");
            return Encoding.ASCII.GetString(answer.ToArray());
        }
    }
}
