using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.Cryptography;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>
    /// Verifies the sender of an inbound reply: each DKIM signature (MimeKit <see cref="DkimVerifier"/>), the ARC chain
    /// (<see cref="ArcVerifier"/>), the DMARC policy of the From domain (falling back to its organizational domain) and
    /// alignment, plus the Authentication-Results of our own MTA (trusted only under our authserv-id). A failed DNS lookup
    /// gives temperror, never an exception. One instance serves a run; its DNS answers are kept for the run.
    /// </summary>
    public sealed class SenderVerifier
    {
        private const int MaxSignatures = 5;
        private static readonly Regex DomainTag = new Regex(@"(?:^|;)\s*d\s*=\s*(?<d>[^;\s]+)", RegexOptions.CultureInvariant);

        private readonly DnsTxtResolver _dns;
        private readonly DnsPublicKeyLocator _locator;
        private readonly PublicSuffixList _suffixes;
        private readonly string _authservId;

        /// <summary>Creates a verifier from the settings (null for the defaults).</summary>
        /// <exception cref="System.IO.IOException">A configured Public Suffix List file cannot be read.</exception>
        public SenderVerifier(SenderAuthenticationSettings settings)
            : this(new DnsTxtResolver(settings?.DnsServers, TimeSpan.FromSeconds(settings?.DnsTimeoutSeconds ?? SenderAuthenticationSettings.DefaultDnsTimeoutSeconds)),
                   settings?.PublicSuffixListPath != null ? PublicSuffixList.Load(settings.PublicSuffixListPath) : PublicSuffixList.Default, settings?.AuthservId)
        {
        }

        /// <summary>Creates a verifier with its parts.</summary>
        public SenderVerifier(DnsTxtResolver dns, PublicSuffixList suffixes, string authservId)
        {
            _dns = dns ?? throw new ArgumentNullException(nameof(dns));
            _locator = new DnsPublicKeyLocator(dns);
            _suffixes = suffixes ?? PublicSuffixList.Default;
            _authservId = string.IsNullOrWhiteSpace(authservId) ? null : authservId.Trim();
        }

        /// <summary>The Public Suffix List in use.</summary>
        public PublicSuffixList Suffixes => _suffixes;

        /// <summary>Verifies <paramref name="message"/> (not changed).</summary>
        public async Task<SenderVerification> VerifyAsync(MimeMessage message, CancellationToken cancellationToken)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            var result = new SenderVerification();
            var from = message.From.Mailboxes.ToList();
            if (from.Count != 1 || string.IsNullOrEmpty(from[0].Domain))
            {
                result.Dmarc = "none";
                result.Reason = from.Count == 0 ? "From has no address" : "From has more than one address, so DMARC cannot apply";
                return result;
            }
            var fromDomain = result.FromDomain = from[0].Domain.Trim().TrimEnd('.').ToLowerInvariant();

            // The policy first: its adkim= decides how DKIM aligns.
            var (record, policyDomain, dmarcFailure) = await LookupPolicyAsync(fromDomain, cancellationToken).ConfigureAwait(false);
            result.PolicyLookupFailed = dmarcFailure != null;
            if (record != null)
            {
                result.PolicyDomain = policyDomain;
                result.Policy = policyDomain != fromDomain && record.SubdomainPolicy != null ? record.SubdomainPolicy : record.Policy;
            }

            // DKIM: every signature (at most a few), our own verification.
            var verifier = new DkimVerifier(_locator);
            var signatures = message.Headers.Where(h => h.Id == HeaderId.DkimSignature).Take(MaxSignatures).ToList();
            var verdicts = new List<(string Domain, string Verdict, string Why)>();
            foreach (var signature in signatures)
            {
                var domain = DomainOf(signature.Value);
                try
                {
                    var ok = await verifier.VerifyAsync(message, signature, cancellationToken).ConfigureAwait(false);
                    verdicts.Add((domain, ok ? "pass" : "fail", ok ? null : "the signature does not match the message"));
                }
                catch (DkimKeyLookupException e) { verdicts.Add((domain, "temperror", e.Message)); }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    // A bad signature or key (malformed tag, unreadable key, unsupported algorithm): the signature counts for nothing.
                    verdicts.Add((domain, "permerror", e.Message));
                }
            }
            bool Aligns(string domain) => domain != null && (record != null && record.StrictDkim
                ? string.Equals(domain, fromDomain, StringComparison.OrdinalIgnoreCase)
                : _suffixes.SameOrganization(domain, fromDomain));
            var aligned = verdicts.FirstOrDefault(v => v.Verdict == "pass" && Aligns(v.Domain));
            var passed = verdicts.FirstOrDefault(v => v.Verdict == "pass");
            result.Aligned = aligned.Verdict != null;
            result.Dkim = verdicts.Count == 0 ? "none" : passed.Verdict != null ? "pass"
                : verdicts.Any(v => v.Verdict == "temperror") ? "temperror" : verdicts.Any(v => v.Verdict == "fail") ? "fail" : "permerror";
            result.DkimDomain = aligned.Domain ?? passed.Domain ?? verdicts.Select(v => v.Domain).FirstOrDefault();

            // ARC: the chain as a whole (the receiver's view of earlier hops).
            if (message.Headers.Contains(HeaderId.ArcSeal))
            {
                try
                {
                    var arc = await new ArcVerifier(_locator).VerifyAsync(message, cancellationToken).ConfigureAwait(false);
                    result.Arc = arc.Chain == ArcSignatureValidationResult.Pass ? "pass" : arc.Chain == ArcSignatureValidationResult.None ? "none" : "fail";
                }
                catch (DkimKeyLookupException) { result.Arc = "temperror"; }
                catch (Exception e) when (!(e is OperationCanceledException)) { result.Arc = "fail"; }
            }

            // Our MTA's verdict, from the first Authentication-Results under our authserv-id (RFC 8601 §5: the MTA removes
            // fields with its own id from incoming mail, so the first one is its own).
            var mtaPass = TrustedResults(message.Headers, fromDomain, record, result);

            // DMARC as judged here.
            var dkimTempError = !result.Aligned && verdicts.Any(v => v.Verdict == "temperror");
            if (result.Aligned || mtaPass != null)
            {
                result.Dmarc = "pass";
                result.Reason = result.Aligned ? $"DKIM signature of {aligned.Domain} verified and aligned with From {fromDomain}" : mtaPass;
            }
            else if (dmarcFailure != null)
            {
                result.Dmarc = "temperror";
                result.Reason = "the DMARC lookup failed: " + dmarcFailure;
            }
            else if (dkimTempError)
            {
                result.Dmarc = "temperror";
                result.Reason = verdicts.First(v => v.Verdict == "temperror").Why;
            }
            else if (record == null)
            {
                result.Dmarc = "none";
                result.Reason = $"{fromDomain} publishes no DMARC policy" + Signatures(verdicts, fromDomain);
            }
            else if (result.MtaResults != null || verdicts.Any(v => (v.Verdict == "fail" || v.Verdict == "permerror") && Aligns(v.Domain)))
            {
                // Evidence of failure: a signature in the From domain's name that does not verify, or our MTA judged the
                // reply and nothing aligned passed. Only then is the From called spoofed.
                result.Dmarc = "fail";
                result.Reason = $"{policyDomain} publishes p={result.Policy}" + Signatures(verdicts, fromDomain) + (result.MtaResults != null ? $"; {result.MtaResults}" : "");
                result.Spoofed = result.Policy == "reject" || result.Policy == "quarantine";
            }
            else
            {
                // No signature of the From domain and no verdict of our MTA: SPF at our MTA may have passed, so the reply is
                // not called spoofed; but nothing it carries survives a forward.
                result.Dmarc = "unknown";
                result.Reason = $"{policyDomain} publishes p={result.Policy}" + Signatures(verdicts, fromDomain) +
                    (_authservId == null ? "; no authserv-id is set, so our MTA's SPF result is not read" : $"; no Authentication-Results of {_authservId}");
            }
            return result;
        }

        // Says what the signatures were, for the one-line reason.
        private static string Signatures(List<(string Domain, string Verdict, string Why)> verdicts, string fromDomain)
        {
            if (verdicts.Count == 0) return " and the reply carries no DKIM signature";
            var first = verdicts.FirstOrDefault(v => v.Verdict != "pass");
            if (first.Verdict == null) return $"; the DKIM signature of {verdicts[0].Domain} verified but does not align with {fromDomain}";
            return $"; DKIM {first.Verdict} for {first.Domain ?? "(no d=)"}" + (first.Why != null ? $" ({first.Why})" : "");
        }

        // The policy at _dmarc.<domain>, else at _dmarc.<organizational domain> (RFC 7489 §6.6.3).
        private async Task<(DmarcRecord Record, string Domain, string Failure)> LookupPolicyAsync(string domain, CancellationToken cancellationToken)
        {
            var answer = await _dns.QueryTxtAsync("_dmarc." + domain, cancellationToken).ConfigureAwait(false);
            if (answer.Failed) return (null, null, answer.Failure);
            var record = FirstRecord(answer);
            if (record != null) return (record, domain, null);
            var organization = _suffixes.OrganizationalDomain(domain);
            if (string.Equals(organization, domain, StringComparison.OrdinalIgnoreCase)) return (null, null, null);
            answer = await _dns.QueryTxtAsync("_dmarc." + organization, cancellationToken).ConfigureAwait(false);
            if (answer.Failed) return (null, null, answer.Failure);
            record = FirstRecord(answer);
            return (record, record != null ? organization : null, null);
        }

        private static DmarcRecord FirstRecord(TxtAnswer answer)
        {
            // More than one DMARC record means none applies (RFC 7489 §6.6.3 step 5).
            var records = answer.Records.Select(r => DmarcRecord.TryParse(r, out var parsed) ? parsed : null).Where(r => r != null).ToList();
            return records.Count == 1 ? records[0] : null;
        }

        // Reads our MTA's Authentication-Results; returns why it counts as an aligned pass, or null.
        private string TrustedResults(HeaderList headers, string fromDomain, DmarcRecord record, SenderVerification result)
        {
            if (_authservId == null) return null;
            foreach (var header in headers.Where(h => h.Id == HeaderId.AuthenticationResults))
            {
                if (!AuthenticationResults.TryParse(header.RawValue, out var parsed)) continue;
                if (!string.Equals(parsed.AuthenticationServiceIdentifier, _authservId, StringComparison.OrdinalIgnoreCase)) continue;
                result.MtaResults = _authservId + ": " + string.Join(" ", parsed.Results.Select(r => $"{r.Method}={r.Result}"));
                foreach (var method in parsed.Results.Where(r => string.Equals(r.Result, "pass", StringComparison.OrdinalIgnoreCase)))
                {
                    if (string.Equals(method.Method, "dmarc", StringComparison.OrdinalIgnoreCase))
                    {
                        var policyFrom = method.Properties.FirstOrDefault(p => p.Property.Equals("from", StringComparison.OrdinalIgnoreCase))?.Value;
                        if (policyFrom == null || string.Equals(policyFrom, fromDomain, StringComparison.OrdinalIgnoreCase))
                            return $"our MTA ({_authservId}) reports dmarc=pass";
                    }
                    var strict = string.Equals(method.Method, "dkim", StringComparison.OrdinalIgnoreCase) ? record?.StrictDkim == true : record?.StrictSpf == true;
                    var identity = method.Properties.FirstOrDefault(p =>
                        (method.Method.Equals("dkim", StringComparison.OrdinalIgnoreCase) && p.PropertyType == "header" && p.Property == "d") ||
                        (method.Method.Equals("spf", StringComparison.OrdinalIgnoreCase) && p.PropertyType == "smtp" && p.Property == "mailfrom"))?.Value;
                    if (identity == null) continue;
                    var at = identity.LastIndexOf('@');
                    var domain = (at >= 0 ? identity.Substring(at + 1) : identity).ToLowerInvariant();
                    if (strict ? domain == fromDomain : _suffixes.SameOrganization(domain, fromDomain))
                        return $"our MTA ({_authservId}) reports an aligned {method.Method}=pass for {domain}";
                }
                return null; // only the first field under our id counts
            }
            return null;
        }

        private static string DomainOf(string signature)
        {
            var match = DomainTag.Match(signature.Replace("\r", "").Replace("\n", ""));
            return match.Success ? match.Groups["d"].Value.Trim().TrimEnd('.').ToLowerInvariant() : null;
        }
    }
}
