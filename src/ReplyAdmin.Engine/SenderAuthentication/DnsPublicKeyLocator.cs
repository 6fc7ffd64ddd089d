using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>Thrown by the key locator when the DNS lookup of a key failed (temperror), as opposed to a missing or bad key (fail).</summary>
    public sealed class DkimKeyLookupException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public DkimKeyLookupException(string message) : base(message) { }
    }

    /// <summary>MimeKit's DKIM/ARC key locator over <see cref="DnsTxtResolver"/>: the TXT record at <c>selector._domainkey.domain</c>.</summary>
    public sealed class DnsPublicKeyLocator : DkimPublicKeyLocatorBase
    {
        private readonly DnsTxtResolver _resolver;

        /// <summary>Creates the locator.</summary>
        public DnsPublicKeyLocator(DnsTxtResolver resolver) => _resolver = resolver ?? throw new ArgumentNullException(nameof(resolver));

        /// <inheritdoc />
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            LocatePublicKeyAsync(methods, domain, selector, cancellationToken).GetAwaiter().GetResult();

        /// <inheritdoc />
        /// <exception cref="DkimKeyLookupException">The lookup failed (timeout, server failure).</exception>
        /// <exception cref="FormatException">No key is published there, or it cannot be read.</exception>
        public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
        {
            if (methods != null && !methods.Split(':').Any(m => m.Trim().Equals("dns/txt", StringComparison.OrdinalIgnoreCase)))
                throw new FormatException($"The signature asks for key query methods '{methods}', none of which is dns/txt.");
            var name = $"{selector}._domainkey.{domain}";
            var answer = await _resolver.QueryTxtAsync(name, cancellationToken).ConfigureAwait(false);
            if (answer.Failed) throw new DkimKeyLookupException("the DKIM key lookup failed: " + answer.Failure);
            var record = answer.Records.FirstOrDefault(r => r.Contains("p=", StringComparison.Ordinal));
            if (record == null) throw new FormatException($"no DKIM key is published at {name}");
            return GetPublicKey(record);
        }
    }
}
