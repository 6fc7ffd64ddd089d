using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Smtp
{
    /// <summary>What testing the SMTP relay found: connection, TLS and login, and whether DNS publishes the signing key.</summary>
    public sealed class RelayTestReport
    {
        /// <summary>The relay, as host:port.</summary>
        public string Server { get; internal set; }

        /// <summary>True when the relay accepted the connection (and the login, where one is configured).</summary>
        public bool Connected { get; internal set; }

        /// <summary>The signing domain, or null when the relay does not sign.</summary>
        public string DkimDomain { get; internal set; }

        /// <summary>The selector, or null when the relay does not sign.</summary>
        public string DkimSelector { get; internal set; }

        /// <summary>The TXT record name the key must be published at (<c>selector._domainkey.domain</c>).</summary>
        public string DkimRecordName { get; internal set; }

        /// <summary>True when DNS answered (the key could be compared); false when no DNS server answered or the relay does not sign.</summary>
        public bool DkimKeyChecked { get; internal set; }

        /// <summary>True when the published key is the public half of the configured private key; null when not checked.</summary>
        public bool? DkimKeyMatches { get; internal set; }

        /// <summary>Why the key could not be checked (DNS unreachable), or null.</summary>
        public string Warning { get; internal set; }

        /// <summary>True when every step succeeded.</summary>
        public bool Succeeded => Error == null;

        /// <summary>The first failure; null when the test succeeded.</summary>
        public ReplyAdminException Error { get; internal set; }
    }

    /// <summary>Tests the SMTP relay without sending: connection, TLS and login; and that DNS publishes the signing key.</summary>
    public static class RelayTester
    {
        /// <summary>Runs the test. Never throws for a failed step: the report carries it.</summary>
        /// <param name="relay">The relay settings.</param>
        /// <param name="credential">The relay login, or null.</param>
        /// <param name="signer">The relay's signer, or null when it does not sign.</param>
        /// <param name="dnsServers">DNS servers ("address[:port]") to ask for the key; null or empty for the system's resolvers.</param>
        /// <param name="timeout">Time limit of each network step.</param>
        /// <param name="cancellationToken">Cancels the test.</param>
        public static async Task<RelayTestReport> TestAsync(SmtpRelaySettings relay, NetworkCredential credential, RelaySigner signer, IReadOnlyList<string> dnsServers,
            TimeSpan timeout, CancellationToken cancellationToken)
        {
            var report = new RelayTestReport { Server = $"{relay.Host}:{relay.Port}" };
            using (var forwarder = new SmtpForwarder(relay, credential, timeout))
            {
                try
                {
                    await forwarder.ConnectAsync(cancellationToken).ConfigureAwait(false);
                    report.Connected = true;
                }
                catch (ReplyAdminException e)
                {
                    report.Error = e;
                }
            }
            if (signer == null)
                return report;
            report.DkimDomain = signer.Domain;
            report.DkimSelector = signer.Selector;
            report.DkimRecordName = $"{signer.Selector}._domainkey.{signer.Domain}";
            var error = await CheckPublishedKeyAsync(signer, report, dnsServers, timeout, cancellationToken).ConfigureAwait(false);
            if (report.Error == null) report.Error = error;
            return report;
        }

        private static async Task<ReplyAdminException> CheckPublishedKeyAsync(RelaySigner signer, RelayTestReport report, IReadOnlyList<string> dnsServers, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var name = report.DkimRecordName;
            // The same lookups as the sender checks; refused or failed means the server cannot say (a resolver without
            // outside access): nothing to compare.
            var resolver = new SenderAuthentication.DnsTxtResolver(dnsServers,
                timeout < TimeSpan.FromSeconds(5) ? timeout : TimeSpan.FromSeconds(5));
            var answer = await resolver.QueryTxtAsync(name, cancellationToken).ConfigureAwait(false);
            if (answer.Failed)
            {
                report.Warning = $"The signing key was not checked: no DNS answer for {name} ({answer.Failure}).";
                return null;
            }
            report.DkimKeyChecked = true;
            var records = answer.Records.Where(t => t.IndexOf("p=", StringComparison.Ordinal) >= 0).ToList();
            var published = records.Select(PublicKeyOf).FirstOrDefault(p => !string.IsNullOrEmpty(p));
            if (published == null)
            {
                report.DkimKeyMatches = false;
                return new ReplyAdminException(ErrorIds.DkimKeyNotPublished, ReplyAdminErrorKind.ObjectNotFound,
                    $"DNS publishes no DKIM key at {name}: receivers cannot verify the relay's signatures, and an unverifiable signature counts as none.", name,
                    $"Publish the TXT record {name} = \"v=DKIM1; k={signer.KeyType}; p={signer.PublicKeyRecordValue}\".");
            }
            report.DkimKeyMatches = SameKey(published, signer);
            return report.DkimKeyMatches == true ? null
                : new ReplyAdminException(ErrorIds.DkimKeyMismatch, ReplyAdminErrorKind.InvalidData,
                    $"The key DNS publishes at {name} is not the public half of the configured signing key: every forward's signature will fail at the receiver.", name,
                    $"Publish the TXT record {name} = \"v=DKIM1; k={signer.KeyType}; p={signer.PublicKeyRecordValue}\", or configure the private key that belongs to the published one.");
        }

        // The p= tag of a DKIM key record (RFC 6376 3.6.1), whitespace removed; empty means revoked.
        private static string PublicKeyOf(string record)
        {
            foreach (var part in record.Split(';'))
            {
                var eq = part.IndexOf('=');
                if (eq > 0 && part.Substring(0, eq).Trim() == "p")
                    return new string(part.Substring(eq + 1).Where(c => !char.IsWhiteSpace(c)).ToArray());
            }
            return null;
        }

        // Compared as keys, not text: some tools publish an RSA key as PKCS#1 RSAPublicKey instead of SubjectPublicKeyInfo.
        private static bool SameKey(string published, RelaySigner signer)
        {
            var expected = signer.PublicKeyRecordValue;
            if (published == expected) return true;
            if (signer.KeyType != "rsa") return false;
            try
            {
                var bytes = Convert.FromBase64String(published);
                var mine = (RsaKeyParameters)PublicKeyFactory.CreateKey(Convert.FromBase64String(expected));
                RsaKeyParameters theirs;
                try { theirs = PublicKeyFactory.CreateKey(bytes) as RsaKeyParameters; }
                catch (Exception) { var pkcs1 = RsaPublicKeyStructure.GetInstance(Asn1Object.FromByteArray(bytes)); theirs = new RsaKeyParameters(false, pkcs1.Modulus, pkcs1.PublicExponent); }
                return theirs != null && theirs.Modulus.Equals(mine.Modulus) && theirs.Exponent.Equals(mine.Exponent);
            }
            catch (Exception e) when (e is FormatException || e is ArgumentException || e is InvalidCastException || e is System.IO.IOException)
            {
                return false;
            }
        }
    }
}
