using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Scanning
{
    /// <summary>
    /// rspamd over its HTTP protocol: <c>POST /checkv2</c> with the envelope in request headers, a JSON answer with
    /// action, score, required score and symbols. Also finds viruses when rspamd's antivirus module is configured
    /// (symbols ending in <c>_VIRUS</c>, e.g. <c>CLAM_VIRUS</c>).
    /// </summary>
    public sealed class RspamdScanner : IContentScanner, IDisposable
    {
        private readonly HttpClient _http;
        private readonly Uri _baseUri;
        private readonly TimeSpan _timeout;
        private string _version;

        /// <summary>Creates a scanner for the rspamd normal worker (or proxy) at <paramref name="baseUri"/>, e.g. <c>http://127.0.0.1:11333</c>.</summary>
        /// <param name="baseUri">rspamd's address.</param>
        /// <param name="timeout">Time limit of one request.</param>
        /// <exception cref="ArgumentNullException"><paramref name="baseUri"/> is null.</exception>
        public RspamdScanner(Uri baseUri, TimeSpan timeout)
        {
            _baseUri = baseUri ?? throw new ArgumentNullException(nameof(baseUri));
            _timeout = timeout;
            // The per-request token carries the timeout; HttpClient's own limit only backs it up.
            _http = new HttpClient { Timeout = timeout + TimeSpan.FromSeconds(5) };
        }

        /// <inheritdoc />
        public string Name => "rspamd";

        /// <inheritdoc />
        public string Address => _baseUri.GetLeftPart(UriPartial.Authority);

        /// <inheritdoc />
        public async Task<ScanVerdict> ScanAsync(Stream message, ScanEnvelope envelope, CancellationToken cancellationToken)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (envelope == null) throw new ArgumentNullException(nameof(envelope));
            var watch = Stopwatch.StartNew();
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_timeout);
                try
                {
                    using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_baseUri, "checkv2")))
                    {
                        // rspamd needs the length up front; a stream that cannot tell it is copied once.
                        Stream body = message;
                        if (!message.CanSeek)
                        {
                            body = new MemoryStream();
                            await message.CopyToAsync(body, 81920, timeout.Token).ConfigureAwait(false);
                            body.Position = 0;
                        }
                        request.Content = new NonDisposingStreamContent(body);
                        request.Content.Headers.ContentLength = body.Length - body.Position;
                        AddEnvelope(request.Headers, envelope);
                        using (var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false))
                        {
                            var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                            if (!response.IsSuccessStatusCode)
                                return new ScanVerdict(Name, ScanVerdictKind.Error, reason: $"rspamd answered HTTP {(int)response.StatusCode}: {Shorten(text)}",
                                    elapsed: watch.Elapsed);
                            return Parse(text, _version, watch.Elapsed);
                        }
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return new ScanVerdict(Name, ScanVerdictKind.Unreachable, reason: $"rspamd at {Address} did not answer within {_timeout.TotalSeconds:0.#} s",
                        elapsed: watch.Elapsed);
                }
                catch (HttpRequestException e)
                {
                    return new ScanVerdict(Name, ScanVerdictKind.Unreachable, reason: $"rspamd at {Address} cannot be reached: {Innermost(e)}", elapsed: watch.Elapsed);
                }
                catch (IOException e)
                {
                    return new ScanVerdict(Name, ScanVerdictKind.Unreachable, reason: $"rspamd at {Address} broke the connection: {e.Message}", elapsed: watch.Elapsed);
                }
                catch (JsonException e)
                {
                    return new ScanVerdict(Name, ScanVerdictKind.Error, reason: $"rspamd's answer is not the expected JSON: {e.Message}", elapsed: watch.Elapsed);
                }
            }
        }

        /// <inheritdoc />
        public async Task<string> GetVersionAsync(CancellationToken cancellationToken)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_timeout);
                try
                {
                    using (var ping = await _http.GetAsync(new Uri(_baseUri, "ping"), timeout.Token).ConfigureAwait(false))
                    {
                        var pong = (await ping.Content.ReadAsStringAsync().ConfigureAwait(false)).Trim();
                        if (!ping.IsSuccessStatusCode || !pong.StartsWith("pong", StringComparison.OrdinalIgnoreCase))
                            throw new ScannerUnavailableException(ErrorIds.RspamdUnexpectedAnswer, $"{Address}/ping answered HTTP {(int)ping.StatusCode} '{Shorten(pong)}', not 'pong'.",
                                Address, "Check that the URL points at rspamd's normal worker or proxy (port 11333 or 11332 by default), not the controller.");
                        // The normal worker answers every request with "Server: rspamd/3.4"; /ping is the cheapest request.
                        _version = ping.Headers.Server?.ToString();
                        if (string.IsNullOrEmpty(_version) && ping.Headers.TryGetValues("Server", out var server)) _version = string.Join(" ", server);
                        return _version ?? "rspamd";
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new ScannerUnavailableException(ErrorIds.RspamdTimeout, $"rspamd at {Address} did not answer within {_timeout.TotalSeconds:0.#} s.", Address,
                        "Check that rspamd is running and that nothing blocks the port.");
                }
                catch (HttpRequestException e)
                {
                    throw new ScannerUnavailableException(ErrorIds.RspamdUnreachable, $"rspamd at {Address} cannot be reached: {Innermost(e)}", Address,
                        "Check that rspamd is running and listening on this address (bind_socket of the normal worker).", e);
                }
            }
        }

        /// <summary>Reads rspamd's <c>/checkv2</c> JSON answer.</summary>
        /// <param name="json">The answer.</param>
        /// <param name="version">rspamd's version, if known.</param>
        /// <param name="elapsed">How long the scan took.</param>
        /// <exception cref="JsonException">The text is not JSON of the expected shape.</exception>
        public static ScanVerdict Parse(string json, string version = null, TimeSpan elapsed = default)
        {
            using (var document = JsonDocument.Parse(json))
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("action", out var actionElement) || actionElement.ValueKind != JsonValueKind.String)
                    throw new JsonException("the answer has no \"action\".");
                var action = ScanVerdict.ParseAction(actionElement.GetString())
                    ?? throw new JsonException($"the action '{actionElement.GetString()}' is not one of rspamd's actions.");
                double? score = root.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : (double?)null;
                double? required = root.TryGetProperty("required_score", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : (double?)null;
                var symbols = new List<ScanSymbol>();
                if (root.TryGetProperty("symbols", out var symbolsElement) && symbolsElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in symbolsElement.EnumerateObject())
                    {
                        var value = property.Value;
                        var symbolScore = value.TryGetProperty("score", out var ss) && ss.ValueKind == JsonValueKind.Number ? ss.GetDouble() : 0;
                        var description = value.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                        var options = value.TryGetProperty("options", out var o) && o.ValueKind == JsonValueKind.Array
                            ? o.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()).ToList()
                            : null;
                        symbols.Add(new ScanSymbol(property.Name, symbolScore, description, options));
                    }
                }
                symbols = symbols.OrderByDescending(x => Math.Abs(x.Score)).ThenBy(x => x.Name, StringComparer.Ordinal).ToList();
                string message = null;
                if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Object
                    && messages.TryGetProperty("smtp_message", out var smtp) && smtp.ValueKind == JsonValueKind.String)
                    message = smtp.GetString();

                var virus = symbols.FirstOrDefault(x => IsVirusSymbol(x.Name));
                var phishing = symbols.Any(x => IsPhishingSymbol(x.Name));
                ScanVerdictKind kind;
                if (virus != null) kind = ScanVerdictKind.Virus;
                else if (action >= SpamAction.AddHeader) kind = ScanVerdictKind.Spam;
                else if (phishing) kind = ScanVerdictKind.Phishing;
                else kind = ScanVerdictKind.Clean;
                var virusName = virus == null ? null : (virus.Options.FirstOrDefault() ?? virus.Name);
                return new ScanVerdict("rspamd", kind, action, score, required, symbols, virusName, phishing, version, message, elapsed);
            }
        }

        // The antivirus module's symbols (CLAM_VIRUS, and custom rules named like it); *_FAIL means the AV scan failed.
        internal static bool IsVirusSymbol(string name) => name.EndsWith("_VIRUS", StringComparison.OrdinalIgnoreCase);

        internal static bool IsPhishingSymbol(string name) =>
            name.Equals("PHISHING", StringComparison.OrdinalIgnoreCase)
            || (name.StartsWith("PHISHED_", StringComparison.OrdinalIgnoreCase)
                && !name.Equals("PHISHED_WHITELISTED", StringComparison.OrdinalIgnoreCase) && !name.Equals("PHISHED_EXCLUDED", StringComparison.OrdinalIgnoreCase));

        private static void AddEnvelope(HttpRequestHeaders headers, ScanEnvelope envelope)
        {
            // The headers rspamd's protocol reads; values are checked for line breaks so a forged Received line cannot inject headers.
            void Add(string name, string value)
            {
                if (!string.IsNullOrEmpty(value) && value.IndexOfAny(new[] { '\r', '\n', '\0' }) < 0)
                    headers.TryAddWithoutValidation(name, value);
            }
            Add("From", envelope.Sender);
            foreach (var recipient in envelope.Recipients ?? Array.Empty<string>())
                Add("Rcpt", recipient);
            if (envelope.ClientIp != null) Add("Ip", envelope.ClientIp.ToString());
            Add("Helo", envelope.Helo);
            Add("Hostname", envelope.ClientHostname);
            Add("Queue-Id", envelope.QueueId);
        }

        private static string Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e.Message;
        }

        private static string Shorten(string text) => text == null ? "" : (text.Length <= 200 ? text : text.Substring(0, 200) + "…").Replace("\r", " ").Replace("\n", " ");

        /// <inheritdoc />
        public void Dispose() => _http.Dispose();

        // StreamContent disposes its stream with the request; the caller owns the message stream.
        private sealed class NonDisposingStreamContent : HttpContent
        {
            private readonly Stream _stream;
            public NonDisposingStreamContent(Stream stream) => _stream = stream;
            protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext context) => _stream.CopyToAsync(stream, 81920);
            protected override bool TryComputeLength(out long length)
            {
                length = _stream.CanSeek ? _stream.Length - _stream.Position : -1;
                return _stream.CanSeek;
            }
        }
    }
}
