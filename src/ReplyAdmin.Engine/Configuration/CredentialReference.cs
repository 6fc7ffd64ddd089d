using System;
using System.IO;
using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;

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

        private static string ReadPasswordFile(CredentialReference reference, string field)
        {
            var path = reference.Name;
            if (!File.Exists(path))
                throw new ReplyAdminException(ErrorIds.CredentialNotFound, ReplyAdminErrorKind.ObjectNotFound,
                    $"The password file '{path}' named by {field} does not exist.", path, "Create it with the password as its only line, readable by its owner alone (chmod 600).");
            var mode = UnixFileMode(path);
            if (mode.HasValue && (mode.Value & 0x3F) != 0) // any group or other permission bit (0o077)
                throw new ReplyAdminException(ErrorIds.CredentialFileTooOpen, ReplyAdminErrorKind.SecurityError,
                    $"The password file '{path}' can be read or written by other users (mode {Convert.ToString(mode.Value & 0x1FF, 8)}).", path,
                    $"Restrict it to its owner: chmod 600 '{path}'.");
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

        // netstandard2.0 has no API for Unix permissions; .NET 7+ (PowerShell 7.3+) has File.GetUnixFileMode.
        private static int? UnixFileMode(string path)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                return null;
            var method = typeof(File).GetMethod("GetUnixFileMode", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);
            return method == null ? (int?)null : Convert.ToInt32(method.Invoke(null, new object[] { path }));
        }
    }
}
