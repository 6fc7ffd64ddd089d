using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json.Nodes;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>Where a password is kept. The configuration file holds only this reference, never the password.</summary>
    public enum CredentialSource
    {
        /// <summary><c>env:NAME</c>: an environment variable of the process that runs ReplyAdmin.</summary>
        Environment,
        /// <summary><c>file:/path</c>: a file holding only the password; on Unix readable by its owner alone.</summary>
        File,
        /// <summary><c>secret:Name</c>: a secret of the SecretManagement module (resolved by the PowerShell layer).</summary>
        Secret,
    }

    /// <summary>A parsed credential reference such as <c>env:REPLYADMIN_IMAP_PASSWORD</c>.</summary>
    public sealed class CredentialReference
    {
        private CredentialReference(CredentialSource source, string name)
        {
            Source = source;
            Name = name;
        }

        /// <summary>Where the password is kept.</summary>
        public CredentialSource Source { get; }

        /// <summary>Variable name, file path or secret name.</summary>
        public string Name { get; }

        /// <inheritdoc />
        public override string ToString() => $"{Prefix(Source)}:{Name}";

        /// <summary>Parses <c>env:NAME</c>, <c>file:/path</c> or <c>secret:Name</c>.</summary>
        /// <exception cref="ConfigurationException">The text is not a credential reference.</exception>
        public static CredentialReference Parse(string text, string field = "credentialReference")
        {
            var colon = text?.IndexOf(':') ?? -1;
            if (colon > 0 && colon < text.Length - 1)
            {
                var name = text.Substring(colon + 1);
                switch (text.Substring(0, colon).ToLowerInvariant())
                {
                    case "env" when name.IndexOf('=') < 0: return new CredentialReference(CredentialSource.Environment, name);
                    case "file":
                        // A relative path resolves against whatever directory a scheduled run starts in: another file, or none.
                        if (!Path.IsPathRooted(name))
                            throw new ConfigurationException(ErrorIds.CredentialReferenceRelative, field,
                                $"the password file '{ConfigurationValidator.Printable(name)}' is given by a relative path, which depends on the directory a run starts in.",
                                name, "Give the full path, e.g. file:/etc/replyadmin/imap.password.");
                        return new CredentialReference(CredentialSource.File, name);
                    case "secret": return new CredentialReference(CredentialSource.Secret, name);
                }
            }
            // The text might be a password typed in the wrong place: never echo it.
            throw new ConfigurationException(ErrorIds.CredentialReferenceInvalid, field,
                "the value is not a credential reference. The configuration keeps only where a password is found, never the password itself.",
                field, "Use env:VARIABLE, file:/path/to/password-file or secret:SecretName (SecretManagement).");
        }

        /// <summary>
        /// Every credential reference of a configuration (each <c>…Reference</c> field: the mailboxes', the relay's, the
        /// OAuth2 client secret, certificate and key, the DKIM key), parsed, each once. Invalid ones are left out: loading
        /// the configuration reports them.
        /// </summary>
        public static IReadOnlyList<CredentialReference> AllIn(ReplyAdminConfiguration configuration)
        {
            var found = new SortedDictionary<string, CredentialReference>(StringComparer.Ordinal);
            if (configuration != null) Collect(JsonNode.Parse(ConfigurationStore.ToJson(configuration)), null, found);
            return found.Values.ToList();
        }

        private static void Collect(JsonNode node, string property, SortedDictionary<string, CredentialReference> found)
        {
            switch (node)
            {
                case JsonObject entries:
                    foreach (var entry in entries) Collect(entry.Value, entry.Key, found);
                    break;
                case JsonArray items:
                    foreach (var item in items) Collect(item, property, found);
                    break;
                case JsonValue value when property != null && property.EndsWith("Reference", StringComparison.OrdinalIgnoreCase) && value.TryGetValue<string>(out var text):
                    try
                    {
                        var reference = Parse(text, property);
                        found[reference.ToString()] = reference;
                    }
                    catch (ConfigurationException)
                    {
                    }
                    break;
            }
        }

        private static string Prefix(CredentialSource source) =>
            source == CredentialSource.Environment ? "env" : source == CredentialSource.File ? "file" : "secret";
    }

    /// <summary>
    /// Turns a user name and a credential reference into a <see cref="NetworkCredential"/>. Secrets of the
    /// SecretManagement module are looked up through a callback the PowerShell layer supplies.
    /// </summary>
    public sealed class CredentialResolver
    {
        private readonly Func<string, string> _secretLookup;

        /// <summary>Creates a resolver.</summary>
        /// <param name="secretLookup">Returns the password of a named secret, or null when it is not found; null when secrets are not available.</param>
        public CredentialResolver(Func<string, string> secretLookup = null) => _secretLookup = secretLookup;

        /// <summary>
        /// The login of a server entry: for <see cref="AuthenticationMethod.OAuth2"/> an <see cref="Authentication.OAuthCredential"/>
        /// whose tokens come from the entry's token source, else the password the reference points to.
        /// </summary>
        /// <param name="userName">Login name (the mailbox).</param>
        /// <param name="reference">The password's reference (unused with OAuth2).</param>
        /// <param name="field">The reference's field, e.g. <c>replyMailbox.credentialReference</c>.</param>
        /// <param name="authentication">The entry's authentication settings; null means password.</param>
        /// <exception cref="ReplyAdminException">The password, or a secret of the token source, cannot be found or read safely.</exception>
        public NetworkCredential Resolve(string userName, string reference, string field, AuthenticationSettings authentication)
        {
            if (!AuthenticationSettings.UsesOAuth(authentication))
                return Resolve(userName, reference, field);
            var section = field.EndsWith(".credentialReference", StringComparison.Ordinal) ? field.Substring(0, field.Length - ".credentialReference".Length) : field;
            return Authentication.OAuthCredentials.Create(authentication, userName, section + ".authentication", this, TimeSpan.FromSeconds(30));
        }

        /// <summary>Resolves the password for <paramref name="userName"/>.</summary>
        /// <param name="userName">Login name.</param>
        /// <param name="reference">The stored reference.</param>
        /// <param name="field">The configuration field, named in errors.</param>
        /// <exception cref="ReplyAdminException">The reference is missing, or the password cannot be found or read safely.</exception>
        public NetworkCredential Resolve(string userName, string reference, string field)
        {
            if (string.IsNullOrEmpty(reference))
                throw new ReplyAdminException(ErrorIds.CredentialReferenceMissing, ReplyAdminErrorKind.ObjectNotFound,
                    $"No password is configured for '{userName}' ({field}).", field,
                    "Set a credential reference (-CredentialReference env:NAME, file:/path or secret:Name) or pass -Credential.");
            var parsed = CredentialReference.Parse(reference, field);
            string password;
            switch (parsed.Source)
            {
                case CredentialSource.Environment:
                    password = Environment.GetEnvironmentVariable(parsed.Name);
                    if (string.IsNullOrEmpty(password))
                        throw new ReplyAdminException(ErrorIds.CredentialNotFound, ReplyAdminErrorKind.ObjectNotFound,
                            $"The environment variable '{parsed.Name}' named by {field} is not set or empty.", parsed.ToString(),
                            $"Set {parsed.Name} in the environment that runs ReplyAdmin (for a scheduled task: in its service or task definition), or pass -Credential.");
                    break;
                case CredentialSource.File:
                    password = ReadPasswordFile(parsed, field);
                    break;
                default:
                    if (_secretLookup == null)
                        throw new ReplyAdminException(ErrorIds.CredentialStoreUnavailable, ReplyAdminErrorKind.ResourceUnavailable,
                            $"The credential reference '{parsed}' ({field}) needs the SecretManagement module, which is not available.", parsed.ToString(),
                            "Install and register a SecretManagement vault, or use env: or file: references.");
                    password = _secretLookup(parsed.Name);
                    if (string.IsNullOrEmpty(password))
                        throw new ReplyAdminException(ErrorIds.CredentialNotFound, ReplyAdminErrorKind.ObjectNotFound,
                            $"The secret '{parsed.Name}' named by {field} was not found in any registered vault.", parsed.ToString(),
                            "Store it with Set-Secret, or correct the reference.");
                    break;
            }
            return new NetworkCredential(userName, password);
        }

        /// <summary>
        /// Resolves a secret of more than one line (a certificate, a service account's JSON key): the whole file
        /// (readable by its owner alone), or the text of the environment variable or SecretManagement secret.
        /// </summary>
        /// <exception cref="ReplyAdminException">The reference is missing, or the secret cannot be found or read safely.</exception>
        public byte[] ResolveMaterial(string reference, string field, string what)
        {
            if (string.IsNullOrEmpty(reference))
                throw new ReplyAdminException(ErrorIds.CredentialReferenceMissing, ReplyAdminErrorKind.ObjectNotFound,
                    $"No {what} is configured ({field}).", field, "Set a credential reference: env:NAME, file:/path or secret:Name.");
            var parsed = CredentialReference.Parse(reference, field);
            if (parsed.Source == CredentialSource.File)
            {
                CheckSecretFile(parsed.Name, field, what);
                try
                {
                    return File.ReadAllBytes(parsed.Name);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new ReplyAdminException(ErrorIds.CredentialFileUnreadable, ReplyAdminErrorKind.ReadError,
                        $"The {what} file '{parsed.Name}' cannot be read: {e.Message}", parsed.Name, "Check that the account running ReplyAdmin owns the file.", e);
                }
            }
            return System.Text.Encoding.UTF8.GetBytes(Resolve(what, reference, field).Password);
        }

        private static void CheckSecretFile(string path, string field, string what)
        {
            if (!File.Exists(path))
                throw new ReplyAdminException(ErrorIds.CredentialNotFound, ReplyAdminErrorKind.ObjectNotFound,
                    $"The {what} file '{path}' named by {field} does not exist.", path, "Create it, readable by its owner alone (chmod 600).");
            var mode = UnixFileMode(path);
            if (mode.HasValue && (mode.Value & 0x3F) != 0) // any group or other permission bit (0o077)
                throw new ReplyAdminException(ErrorIds.CredentialFileTooOpen, ReplyAdminErrorKind.SecurityError,
                    $"The {what} file '{path}' can be read or written by other users (mode {Convert.ToString(mode.Value & 0x1FF, 8)}).", path,
                    $"Restrict it to its owner: chmod 600 '{path}'.");
        }

        private static string ReadPasswordFile(CredentialReference reference, string field)
        {
            var path = reference.Name;
            if (!File.Exists(path))
                throw new ReplyAdminException(ErrorIds.CredentialNotFound, ReplyAdminErrorKind.ObjectNotFound,
                    $"The password file '{path}' named by {field} does not exist.", path, "Create it with the password as its only line, readable by its owner alone (chmod 600).");
            CheckSecretFile(path, field, "password");
            string password;
            try
            {
                using (var reader = new StreamReader(path))
                    password = reader.ReadLine();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.CredentialFileUnreadable, ReplyAdminErrorKind.ReadError,
                    $"The password file '{path}' cannot be read: {e.Message}", path, "Check that the account running ReplyAdmin owns the file.", e);
            }
            if (string.IsNullOrEmpty(password))
                throw new ReplyAdminException(ErrorIds.CredentialNotFound, ReplyAdminErrorKind.ObjectNotFound,
                    $"The password file '{path}' is empty.", path, "Write the password as the file's first line.");
            return password;
        }

        internal static int? UnixFileMode(string path) =>
            OperatingSystem.IsWindows() ? (int?)null : (int)File.GetUnixFileMode(path);
    }
}
