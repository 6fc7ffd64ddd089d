using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using DnsClient;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>The answer to one TXT query: the records, "no such name / no record", or a failure (temperror).</summary>
    public sealed class TxtAnswer
    {
        /// <summary>Each TXT record, its strings joined.</summary>
        public IReadOnlyList<string> Records { get; internal set; } = new string[0];

        /// <summary>Why the lookup failed (timeout, SERVFAIL, no server); null when the server answered.</summary>
        public string Failure { get; internal set; }

        /// <summary>True when the lookup failed (DMARC's temperror).</summary>
        public bool Failed => Failure != null;
    }

    /// <summary>
    /// TXT lookups for DKIM keys and DMARC records through DnsClient.NET, against the configured servers or the system's.
    /// A failed lookup is an answer (<see cref="TxtAnswer.Failed"/>), never an exception. Answers are kept for the
    /// resolver's life (one run), so a batch from one domain asks once.
    /// </summary>
    public sealed class DnsTxtResolver
    {
        private readonly LookupClient _client;
        private readonly ConcurrentDictionary<string, Task<TxtAnswer>> _answers = new ConcurrentDictionary<string, Task<TxtAnswer>>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Creates a resolver.</summary>
        /// <param name="servers">"host:port" or "address" of each DNS server; null or empty for the system's resolvers.</param>
        /// <param name="timeout">Time limit of one query attempt (one retry follows).</param>
        /// <exception cref="ArgumentException">A server is not an IP address with an optional port.</exception>
        public DnsTxtResolver(IReadOnlyList<string> servers, TimeSpan timeout)
        {
            var endpoints = (servers ?? new string[0]).Select(ParseServer).ToArray();
            var options = endpoints.Length > 0 ? new LookupClientOptions(endpoints) : new LookupClientOptions();
            options.Timeout = timeout;
            options.Retries = 1;
            options.UseCache = false;
            options.ThrowDnsErrors = false;
            options.ContinueOnDnsError = true;
            options.UseTcpFallback = true;
            _client = new LookupClient(options);
            Servers = endpoints.Length > 0 ? string.Join(", ", endpoints.Select(e => e.ToString())) : "the system's resolvers";
        }

        /// <summary>Names the servers asked, for messages.</summary>
        public string Servers { get; }

        /// <summary>Parses "address", "address:port" or "[v6]:port".</summary>
        /// <exception cref="ArgumentException">Not an IP address with an optional port.</exception>
        public static IPEndPoint ParseServer(string server)
        {
            var text = (server ?? "").Trim();
            if (IPAddress.TryParse(text, out var address)) return new IPEndPoint(address, 53);
            if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port > 0) return endpoint;
            throw new ArgumentException($"'{server}' is not a DNS server address: give an IP address with an optional port, e.g. 127.0.0.1:5353.", nameof(server));
        }

        /// <summary>The TXT records of <paramref name="name"/>.</summary>
        public Task<TxtAnswer> QueryTxtAsync(string name, CancellationToken cancellationToken) =>
            _answers.GetOrAdd(name.TrimEnd('.'), n => QueryAsync(n, cancellationToken));

        private async Task<TxtAnswer> QueryAsync(string name, CancellationToken cancellationToken)
        {
            try
            {
                var response = await _client.QueryAsync(name, QueryType.TXT, QueryClass.IN, cancellationToken).ConfigureAwait(false);
                var code = response.Header.ResponseCode;
                if (code == DnsHeaderResponseCode.NotExistentDomain || (code == DnsHeaderResponseCode.NoError && !response.HasError))
                    return new TxtAnswer { Records = response.Answers.TxtRecords().Select(r => string.Concat(r.Text)).ToList() };
                return new TxtAnswer { Failure = $"{name}: {code} from {Servers}" };
            }
            catch (DnsResponseException e)
            {
                return new TxtAnswer { Failure = $"{name}: {e.Code} ({e.Message.TrimEnd('.')}) at {Servers}" };
            }
            catch (Exception e) when (!(e is OperationCanceledException) || !cancellationToken.IsCancellationRequested)
            {
                return new TxtAnswer { Failure = $"{name}: {e.Message.TrimEnd('.')} at {Servers}" };
            }
        }
    }
}
