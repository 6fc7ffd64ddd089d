using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using MimeKit;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>
    /// Every rule a configuration must satisfy, in one place. Each failure is a
    /// <see cref="ConfigurationException"/> that names the field and says what to do.
    /// </summary>
    public static class ConfigurationValidator
    {
        // List names become IMAP keywords ("ReplyAdmin-List-<name>"), and keywords are ASCII atoms.
        private static readonly Regex ListNamePattern = new Regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$", RegexOptions.CultureInvariant);
        private static readonly Regex ThumbprintPattern = new Regex("^([0-9A-F]{40}|[0-9A-F]{64})$", RegexOptions.CultureInvariant);

        /// <summary>Validates the whole configuration; throws on the first problem.</summary>
        /// <exception cref="ConfigurationException">A field is invalid.</exception>
        public static void Validate(ReplyAdminConfiguration configuration)
        {
            if (configuration.SchemaVersion < 1 || configuration.SchemaVersion > ReplyAdminConfiguration.CurrentSchemaVersion)
                throw new ConfigurationException(ErrorIds.ConfigurationSchemaUnsupported, "schemaVersion",
                    $"schema version {configuration.SchemaVersion} is not supported by this version of ReplyAdmin (it reads 1 to {ReplyAdminConfiguration.CurrentSchemaVersion}).",
                    configuration.SchemaVersion, "Update the ReplyAdmin module, or restore a configuration file written by this version.",
                    kind: ReplyAdminErrorKind.InvalidData);

            var lists = configuration.Lists ?? new List<ReplyList>();
            for (var i = 0; i < lists.Count; i++)
                ValidateList(lists[i], $"lists[{i}]");

            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var addresses = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < lists.Count; i++)
            {
                if (!names.Add(lists[i].Name))
                    throw new ConfigurationException(ErrorIds.ListNameDuplicate, $"lists[{i}].name",
                        $"a list named '{lists[i].Name}' already exists (names are case-insensitive).", lists[i].Name,
                        "Choose another name, or change the existing list with Set-ReplyList.", kind: ReplyAdminErrorKind.ResourceExists);
                if (addresses.TryGetValue(lists[i].Address, out var owner))
                    throw new ConfigurationException(ErrorIds.ListAddressDuplicate, $"lists[{i}].address",
                        $"the address '{lists[i].Address}' already belongs to list '{owner}' (addresses are case-insensitive).", lists[i].Address,
                        "Each list needs its own reply address.", kind: ReplyAdminErrorKind.ResourceExists);
                addresses.Add(lists[i].Address, lists[i].Name);
            }

            for (var i = 0; i < lists.Count; i++)
            {
                var forwards = lists[i].ForwardTo ?? new List<string>();
                for (var j = 0; j < forwards.Count; j++)
                {
                    // A list's sub-address (news+x@) reaches the list's mailbox too.
                    var looped = lists.FirstOrDefault(l => Processing.ListResolver.Matches(l.Address, forwards[j]));
                    if (looped != null)
                        throw new ConfigurationException(ErrorIds.ForwardAddressLoop, $"lists[{i}].forwardTo[{j}]",
                            $"forwarding to '{forwards[j]}' would loop: it reaches the address of list '{looped.Name}'.", forwards[j],
                            "Forward to a person's or team's mailbox, not to a list address or a sub-address of one.");
                }
            }

            if (configuration.ReplyMailbox != null)
            {
                ValidateEndpoint(configuration.ReplyMailbox, "replyMailbox");
                if (configuration.ReplyMailbox.MaxMessageSize < 1024 || configuration.ReplyMailbox.MaxMessageSize > int.MaxValue)
                    throw new ConfigurationException(ErrorIds.MaxMessageSizeOutOfRange, "replyMailbox.maxMessageSize",
                        $"{configuration.ReplyMailbox.MaxMessageSize} bytes is out of range (1024 to {int.MaxValue}).",
                        configuration.ReplyMailbox.MaxMessageSize, "The default is 10485760 (10 MB).");
            }

            if (configuration.Source != null)
            {
                ValidateSource(configuration.Source);
                ValidateSourcePlaces(configuration.Source, configuration.ReplyMailbox);
                ValidateForwardsAgainstSource(lists, configuration.Source);
            }

            if (configuration.SmtpRelay != null)
                ValidateRelay(configuration.SmtpRelay);

            Scanning.ScannerSettingsValidator.Validate(configuration.Scanner, "scanner");
            SenderAuthentication.SenderAuthenticationSettings.Validate(configuration.SenderAuthentication, "senderAuthentication");

            if (configuration.Coordination != null)
            {
                var coordination = Leases.LeaseOptions.From(configuration.Coordination, null);
                if (coordination.Shards > 0 && configuration.Source != null && configuration.Source.Kind != SourceKind.Imap)
                    throw new ConfigurationException(ErrorIds.LeaseConfigurationInvalid, "coordination.shards",
                        $"shards need an IMAP source; the source is {configuration.Source.Kind}.", configuration.Coordination.Shards,
                        "Remove the shards (Set-ReplyCoordination -Shards 0), or read the replies from an IMAP mailbox.");
            }
        }

        /// <summary>Validates one list on its own (name, address, forward addresses, handling).</summary>
        /// <exception cref="ConfigurationException">A field is invalid.</exception>
        public static void ValidateList(ReplyList list, string field)
        {
            if (string.IsNullOrEmpty(list.Name) || !ListNamePattern.IsMatch(list.Name))
                throw new ConfigurationException(ErrorIds.ListNameInvalid, field + ".name",
                    $"'{list.Name}' is not a valid list name: use 1 to 32 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit.",
                    list.Name, "List names become IMAP keywords that staff filter by, so they are kept to plain ASCII.");
            ValidateAddress(list.Address, field + ".address", ErrorIds.ListAddressInvalid);
            var forwards = list.ForwardTo ?? new List<string>();
            for (var j = 0; j < forwards.Count; j++)
                ValidateAddress(forwards[j], $"{field}.forwardTo[{j}]", ErrorIds.ForwardAddressInvalid);
            if (forwards.Distinct(StringComparer.OrdinalIgnoreCase).Count() != forwards.Count)
                throw new ConfigurationException(ErrorIds.ForwardAddressDuplicate, field + ".forwardTo",
                    "the same forward address is given twice.", string.Join(", ", forwards), "Give each forward address once.");
            if (forwards.Any(f => string.Equals(f, list.Address, StringComparison.OrdinalIgnoreCase)))
                throw new ConfigurationException(ErrorIds.ForwardAddressLoop, field + ".forwardTo",
                    $"forwarding list '{list.Name}' to its own address would loop.", list.Address,
                    "Forward to a person's or team's mailbox, not to the list address.");
            if (list.Action == ReplyAction.ForwardAndStoreInImap && forwards.Count == 0)
                throw new ConfigurationException(ErrorIds.ForwardAddressRequired, field + ".forwardTo",
                    $"list '{list.Name}' forwards replies but has no forward address.", list.Name,
                    "Give -ForwardTo with at least one address, or use -Action StoreInImap.");
            if (!Enum.IsDefined(typeof(ReplyAction), list.Action))
                throw new ConfigurationException(ErrorIds.ReplyActionInvalid, field + ".action", $"'{list.Action}' is not a reply action.", list.Action,
                    "Use StoreInImap or ForwardAndStoreInImap.");
            if (!Enum.IsDefined(typeof(AutoReplyHandling), list.AutoReplies))
                throw new ConfigurationException(ErrorIds.AutoReplyHandlingInvalid, field + ".autoReplies", $"'{list.AutoReplies}' is not an auto-reply handling.",
                    list.AutoReplies, "Use Include or Exclude.");
            Scanning.ScannerSettingsValidator.ValidatePolicy(list.ScanPolicy, field + ".scanPolicy");
            if (!Enum.IsDefined(typeof(SenderAuthentication.ForwardMode), list.ForwardMode))
                throw new ConfigurationException(ErrorIds.ForwardModeInvalid, field + ".forwardMode", $"'{list.ForwardMode}' is not a forward mode.", list.ForwardMode,
                    "Use Auto, Rewrite, Wrap or Unchanged (Set-ReplyList -ForwardMode).");
        }

        /// <summary>
        /// Checks that <paramref name="address"/> is one plain RFC 5322 mailbox (<c>local@domain</c>), with no display
        /// name, no CR/LF and no group syntax.
        /// </summary>
        /// <exception cref="ConfigurationException">The address is not valid.</exception>
        public static void ValidateAddress(string address, string field, string errorId)
        {
            if (!IsPlainMailbox(address))
                throw new ConfigurationException(errorId, field,
                    $"'{Printable(address)}' is not a valid e-mail address: give one plain address such as list@example.com (no display name, no spaces or line breaks).",
                    address, "Correct the address.");
        }

        /// <summary>True when the text is exactly one plain mailbox address.</summary>
        public static bool IsPlainMailbox(string address)
        {
            if (string.IsNullOrEmpty(address) || address.Length > 254 || address.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c > 126))
                return false;
            if (!MailboxAddress.TryParse(ParserOptions.Default, address, out var mailbox))
                return false;
            var at = mailbox.Address.LastIndexOf('@');
            return string.Equals(mailbox.Address, address, StringComparison.Ordinal)
                && at > 0 && at < mailbox.Address.Length - 1
                && Uri.CheckHostName(mailbox.Address.Substring(at + 1)) == UriHostNameType.Dns
                && string.IsNullOrEmpty(mailbox.Name);
        }

        /// <summary>Checks an IMAP folder name: no line breaks, no NUL, no IMAP wildcards, not blank.</summary>
        /// <exception cref="ConfigurationException">The name is not valid.</exception>
        public static void ValidateFolder(string folder, string field)
        {
            if (string.IsNullOrWhiteSpace(folder) || folder.Length > 255 || folder.Trim() != folder
                || folder.Any(c => char.IsControl(c) || c == '*' || c == '%' || c == '"' || c == '\\'))
                throw new ConfigurationException(ErrorIds.FolderNameInvalid, field,
                    $"'{Printable(folder)}' is not a valid folder name: it must not be blank, start or end with spaces, or contain line breaks, control characters, quotes, backslashes or the wildcards * and %.",
                    folder, "Use a plain folder name such as 'Replies' or 'ReplyAdmin/Processed' ('/' separates levels).");
        }

        internal static void ValidateEndpoint(ImapEndpointSettings endpoint, string field)
        {
            ValidateHost(endpoint.Host, field + ".host");
            ValidatePort(endpoint.Port, field + ".port");
            if (string.IsNullOrEmpty(endpoint.UserName) || endpoint.UserName.Any(char.IsControl))
                throw new ConfigurationException(ErrorIds.UserNameInvalid, field + ".userName", "a user name is required and must not contain control characters.",
                    endpoint.UserName, "Give the IMAP login name with -UserName.");
            ValidateFolder(endpoint.Folder, field + ".folder");
            if (endpoint.CredentialReference != null)
                CredentialReference.Parse(endpoint.CredentialReference, field + ".credentialReference");
            ValidateThumbprint(endpoint.CertificateThumbprint, field + ".certificateThumbprint");
            AuthenticationSettings.Validate(endpoint.Authentication, endpoint.UserName, field + ".authentication");
        }

        private static void ValidateSource(InboundSourceSettings source) => Sources.SourceProviders.For(source.Kind).Validate(source);

        // Settings that validate one by one but together would handle the same messages again and again.
        private static void ValidateSourcePlaces(InboundSourceSettings source, ReplyMailboxSettings mailbox)
        {
            var places = new[] { ("processedFolder", source.ProcessedFolder), ("rejectedFolder", source.RejectedFolder), ("archiveFolder", source.ArchiveFolder) };
            if (source.Kind == SourceKind.Imap)
            {
                if (mailbox != null && string.Equals(mailbox.Host, source.Host, StringComparison.OrdinalIgnoreCase) && mailbox.Port == source.Port
                    && string.Equals(mailbox.UserName, source.UserName, StringComparison.OrdinalIgnoreCase) && SameFolder(mailbox.Folder, source.Folder))
                    throw new ConfigurationException(ErrorIds.SourceIsReplyFolder, "source.folder",
                        $"the source is the reply folder itself ('{source.Folder}' of '{source.UserName}' on {source.Host}:{source.Port}): every run would move staff's messages away and store unread copies back.",
                        source.Folder, "Point the source at the inbound mailbox the MTA delivers replies to, not at the folder staff read.", kind: ReplyAdminErrorKind.InvalidArgument);
                foreach (var (field, folder) in places)
                    if (folder != null && SameFolder(folder, source.Folder))
                        throw new ConfigurationException(ErrorIds.ProcessedFolderIsSource, "source." + field,
                            $"'{folder}' is the source folder itself: every run would handle the same messages again.", folder,
                            "Use a folder of its own, such as 'ReplyAdmin/Processed'.", kind: ReplyAdminErrorKind.InvalidArgument);
            }
            else if (!string.IsNullOrEmpty(source.Path) && source.Kind == SourceKind.Directory)
            {
                var root = System.IO.Path.GetFullPath(source.Path).TrimEnd(System.IO.Path.DirectorySeparatorChar);
                foreach (var (field, folder) in places)
                {
                    if (folder == null) continue;
                    var full = System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(folder) ? folder : System.IO.Path.Combine(root, folder)).TrimEnd(System.IO.Path.DirectorySeparatorChar);
                    if (string.Equals(full, root, StringComparison.Ordinal))
                        throw new ConfigurationException(ErrorIds.ProcessedFolderIsSource, "source." + field,
                            $"'{folder}' is the source directory itself: every run would handle the same messages again.", folder,
                            "Use a directory of its own, such as 'ReplyAdmin/Processed'.", kind: ReplyAdminErrorKind.InvalidArgument);
                }
            }
        }

        // INBOX is case-insensitive in IMAP (RFC 3501 5.1); every other name is compared as written.
        private static bool SameFolder(string a, string b) =>
            string.Equals(a, b, string.Equals(a, "INBOX", StringComparison.OrdinalIgnoreCase) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

        // A forward delivered back to the inbound mailbox comes back as a reply: a loop through the MTA.
        private static void ValidateForwardsAgainstSource(IList<ReplyList> lists, InboundSourceSettings source)
        {
            if (source.Kind != SourceKind.Imap || !IsPlainMailbox(source.UserName)) return;
            for (var i = 0; i < lists.Count; i++)
            {
                var forwards = lists[i].ForwardTo ?? new List<string>();
                for (var j = 0; j < forwards.Count; j++)
                    if (Processing.ListResolver.Matches(source.UserName, forwards[j]))
                        throw new ConfigurationException(ErrorIds.ForwardAddressInbound, $"lists[{i}].forwardTo[{j}]",
                            $"forwarding to '{forwards[j]}' would loop: it is the inbound mailbox replies arrive in ('{source.UserName}').", forwards[j],
                            "Forward to a person's or team's mailbox, not to the inbound mailbox.", kind: ReplyAdminErrorKind.InvalidArgument);
            }
        }

        private static void ValidateRelay(SmtpRelaySettings relay)
        {
            ValidateHost(relay.Host, "smtpRelay.host");
            ValidatePort(relay.Port, "smtpRelay.port");
            if (relay.TlsMode == SmtpTlsMode.None && !IsLoopback(relay.Host))
                throw new ConfigurationException(ErrorIds.SmtpTlsRequired, "smtpRelay.tlsMode",
                    $"an SMTP relay without TLS is allowed only on the loopback interface, not on '{relay.Host}'.", relay.Host,
                    "Use -TlsMode StartTls (port 587) or Implicit (port 465).", kind: ReplyAdminErrorKind.SecurityError);
            if (!string.IsNullOrEmpty(relay.EnvelopeSender))
                ValidateAddress(relay.EnvelopeSender, "smtpRelay.envelopeSender", ErrorIds.EnvelopeSenderInvalid);
            if (relay.CredentialReference != null)
                CredentialReference.Parse(relay.CredentialReference, "smtpRelay.credentialReference");
            if (relay.UserName != null && relay.UserName.Any(char.IsControl))
                throw new ConfigurationException(ErrorIds.UserNameInvalid, "smtpRelay.userName", "the user name must not contain control characters.",
                    relay.UserName, "Correct the user name.");
            ValidateThumbprint(relay.CertificateThumbprint, "smtpRelay.certificateThumbprint");
            AuthenticationSettings.Validate(relay.Authentication, relay.UserName, "smtpRelay.authentication");
            ValidateDkim(relay);
        }

        // Relay signing: all three settings or none; the key itself is checked where it is read (RelaySigner), never here.
        private static void ValidateDkim(SmtpRelaySettings relay)
        {
            var given = new[] { relay.DkimDomain, relay.DkimSelector, relay.DkimKeyReference }.Count(v => !string.IsNullOrEmpty(v));
            if (given == 0) return;
            if (given < 3)
                throw new ConfigurationException(ErrorIds.DkimSettingsIncomplete, "smtpRelay.dkim",
                    "relay signing needs a domain, a selector and a key reference; some are missing.", relay.DkimDomain ?? relay.DkimSelector,
                    "Give all three: Set-ReplySmtpRelay -DkimDomain example.com -DkimSelector relay1 -DkimKeyReference file:/etc/replyadmin/dkim.key (or clear all three with empty strings).");
            if (!IsDnsName(relay.DkimDomain) || relay.DkimDomain.IndexOf('.') < 0)
                throw new ConfigurationException(ErrorIds.DkimDomainInvalid, "smtpRelay.dkimDomain",
                    $"'{Printable(relay.DkimDomain)}' is not a domain name.", relay.DkimDomain, "Give the relay's domain, e.g. example.com.");
            if (!IsDnsName(relay.DkimSelector))
                throw new ConfigurationException(ErrorIds.DkimSelectorInvalid, "smtpRelay.dkimSelector",
                    $"'{Printable(relay.DkimSelector)}' is not a DKIM selector: letters, digits and hyphens, in dot-separated labels (RFC 6376 3.1).", relay.DkimSelector,
                    "Give the selector the key is published under, e.g. relay1 for relay1._domainkey.example.com.");
            CredentialReference.Parse(relay.DkimKeyReference, "smtpRelay.dkimKeyReference");
        }

        // RFC 6376 3.1 selector / RFC 1035 name: labels of letters, digits and inner hyphens, at most 63 each.
        private static bool IsDnsName(string value) =>
            !string.IsNullOrEmpty(value) && value.Length <= 253
            && value.Split('.').All(l => l.Length > 0 && l.Length <= 63 && l[0] != '-' && l[l.Length - 1] != '-'
                && l.All(c => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'));

        /// <summary>Brings a thumbprint given with colons, spaces or lower case to the stored form.</summary>
        public static string NormalizeThumbprint(string thumbprint)
        {
            if (string.IsNullOrEmpty(thumbprint)) return null;
            var hex = new string(thumbprint.Where(Uri.IsHexDigit).ToArray()).ToUpperInvariant();
            return hex.Length == 0 ? thumbprint : hex; // nothing hex-like: keep it, so validation names what was given
        }

        private static void ValidateThumbprint(string thumbprint, string field)
        {
            if (thumbprint != null && !ThumbprintPattern.IsMatch(thumbprint))
                throw new ConfigurationException(ErrorIds.CertificateThumbprintInvalid, field,
                    $"'{Printable(thumbprint)}' is not a certificate thumbprint: give the SHA-256 (64 hex digits) or SHA-1 (40 hex digits) fingerprint.",
                    thumbprint, "Test-ReplyImapConnection shows the thumbprint the server presents.");
        }

        private static void ValidateHost(string host, string field)
        {
            if (string.IsNullOrEmpty(host) || Uri.CheckHostName(host) == UriHostNameType.Unknown)
                throw new ConfigurationException(ErrorIds.HostInvalid, field, $"'{Printable(host)}' is not a valid host name or IP address.", host,
                    "Give a host name such as imap.example.net.");
        }

        private static void ValidatePort(int port, string field)
        {
            if (port < 1 || port > 65535)
                throw new ConfigurationException(ErrorIds.PortOutOfRange, field, $"{port} is not a TCP port (1 to 65535).", port,
                    "IMAP over TLS uses 993; SMTP submission 587 (STARTTLS) or 465 (implicit TLS).");
        }

        internal static bool IsLoopback(string host) =>
            string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

        // Shows control characters visibly, so an error about an injected CR/LF does not itself break lines.
        internal static string Printable(string value) =>
            value == null ? "" : Regex.Replace(value, @"\p{Cc}", m => $"\\x{(int)m.Value[0]:X2}");
    }
}
