using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Threading;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>
    /// Reads and writes the configuration file. Writes are atomic (temp file + rename) and serialized by a
    /// lock file, so two administrators or scripts changing the configuration at once lose no change.
    /// </summary>
    public sealed class ConfigurationStore
    {
        /// <summary>Environment variable that names the configuration file when no path is given.</summary>
        public const string PathVariable = "REPLYADMIN_CONFIG";

        private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

        private static readonly JsonSerializerOptions JsonOptions = EngineJsonContext.ForThisRuntime(new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
        });

        /// <summary>
        /// Steps that turn a file of schema version N (the key) into N + 1, applied in order when a file written by
        /// an older ReplyAdmin is first loaded. None yet (the format is at version 1): a change to the file format
        /// raises <see cref="ReplyAdminConfiguration.CurrentSchemaVersion"/> and adds its step here.
        /// </summary>
        internal static readonly SortedDictionary<int, Action<JsonObject>> Migrations = new SortedDictionary<int, Action<JsonObject>>();

        /// <summary>Creates a store for the file at <paramref name="path"/>.</summary>
        public ConfigurationStore(string path) => Path = System.IO.Path.GetFullPath(path);

        /// <summary>The configuration file.</summary>
        public string Path { get; }

        /// <summary>
        /// The file used when no path is given: <c>$REPLYADMIN_CONFIG</c>, else <c>%APPDATA%\ReplyAdmin\config.json</c>
        /// on Windows, else <c>$XDG_CONFIG_HOME/replyadmin/config.json</c> (<c>~/.config</c> by default).
        /// </summary>
        public static string DefaultPath
        {
            get
            {
                var fromEnvironment = Environment.GetEnvironmentVariable(PathVariable);
                if (!string.IsNullOrEmpty(fromEnvironment))
                    return fromEnvironment;
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                    return System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "ReplyAdmin", "config.json");
                var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
                if (string.IsNullOrEmpty(xdg))
                    xdg = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
                return System.IO.Path.Combine(xdg, "replyadmin", "config.json");
            }
        }

        /// <summary>Loads and validates the configuration; a missing file is an empty configuration.</summary>
        /// <exception cref="ConfigurationException">The file is not valid JSON or a field is invalid; the error names the file and the field.</exception>
        public ReplyAdminConfiguration Load() => Load(lockHeld: false);

        private ReplyAdminConfiguration Load(bool lockHeld)
        {
            string json;
            try
            {
                if (!File.Exists(Path))
                    return new ReplyAdminConfiguration();
                json = File.ReadAllText(Path, Encoding.UTF8);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.ConfigurationUnreadable, ReplyAdminErrorKind.ReadError,
                    $"The configuration file '{Path}' cannot be read: {e.Message}", Path, "Check the file's permissions.", e);
            }
            if (NeedsUpgrade(json, out _))
                using (lockHeld ? null : AcquireLock())
                    json = Upgrade(File.ReadAllText(Path, Encoding.UTF8));
            return Parse(json, Path);
        }

        // True for a file of an older schema version that the steps in Migrations convert to the current one.
        private static bool NeedsUpgrade(string json, out JsonObject root)
        {
            root = null;
            try
            {
                root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject;
            }
            catch (JsonException)
            {
                return false; // Parse reports it, naming the line
            }
            if (root == null || !(root["schemaVersion"] is JsonValue value) || !value.TryGetValue<int>(out var version))
                return false;
            for (; version < ReplyAdminConfiguration.CurrentSchemaVersion; version++)
                if (!Migrations.ContainsKey(version))
                    return false; // no way up: the validator names the unsupported version
            return (int)root["schemaVersion"] < ReplyAdminConfiguration.CurrentSchemaVersion;
        }

        // Converts the file (under the lock) and keeps the old one as <file>.v<N>.bak; returns the converted JSON.
        private string Upgrade(string json)
        {
            if (!NeedsUpgrade(json, out var root))
                return json; // another process converted it meanwhile
            var from = (int)root["schemaVersion"];
            for (var version = from; version < ReplyAdminConfiguration.CurrentSchemaVersion; version++)
                Migrations[version](root);
            root["schemaVersion"] = ReplyAdminConfiguration.CurrentSchemaVersion;
            var upgraded = root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            Parse(upgraded, Path); // a conversion that yields an invalid file changes nothing
            var backup = $"{Path}.v{from}.bak";
            try
            {
                if (!File.Exists(backup))
                    File.Copy(Path, backup);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.ConfigurationWriteFailed, ReplyAdminErrorKind.WriteError,
                    $"The configuration file '{Path}' needs converting to schema version {ReplyAdminConfiguration.CurrentSchemaVersion}, but its backup '{backup}' could not be written: {e.Message}",
                    Path, "Check that the directory is writable by this account; the file is left as it was.", e);
            }
            WriteAtomically(upgraded);
            return upgraded;
        }

        /// <summary>
        /// Warnings about the file's permissions (empty on Windows): the configuration or its directory writable by other
        /// users, who could point the servers and pinned thumbprints at their own hosts and collect the passwords.
        /// </summary>
        public IReadOnlyList<string> PermissionWarnings()
        {
            var warnings = new List<string>();
            var directory = System.IO.Path.GetDirectoryName(Path);
            foreach (var (path, what, fix) in new[] { (Path, "configuration file", "chmod 600"), (directory, "directory of the configuration file", "chmod o-w") })
            {
                if (!File.Exists(path) && !Directory.Exists(path)) continue;
                var mode = UnixPermissions.Get(path);
                if (mode.HasValue && (mode.Value & UnixPermissions.OtherWrite) != 0)
                    warnings.Add($"{ErrorIds.ConfigurationWritableByOthers}: the {what} '{path}' can be written by other users (mode {Convert.ToString(mode.Value & 0x1FF, 8)}): " +
                        $"whoever can write it can point the servers and pinned certificates at their own host and collect the passwords. Restrict it: {fix} '{path}'.");
            }
            return warnings;
        }

        /// <summary>Parses and validates configuration JSON; <paramref name="filePath"/> is named in errors.</summary>
        /// <exception cref="ConfigurationException">The JSON or a field is invalid.</exception>
        public static ReplyAdminConfiguration Parse(string json, string filePath)
        {
            ReplyAdminConfiguration configuration;
            try
            {
                configuration = JsonSerializer.Deserialize<ReplyAdminConfiguration>(json, JsonOptions);
            }
            catch (JsonException e)
            {
                var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? null : e.Path.TrimStart('$', '.');
                var line = e.LineNumber.HasValue ? $" (line {e.LineNumber + 1})" : string.Empty;
                throw new ConfigurationException(ErrorIds.ConfigurationFileInvalid, field, $"is not valid{line}: {FirstSentence(e.Message)}",
                    filePath, "Correct the file by hand, or remove it and configure again with the ReplyAdmin cmdlets.", filePath, e,
                    ReplyAdminErrorKind.InvalidData);
            }
            if (configuration == null)
                throw new ConfigurationException(ErrorIds.ConfigurationFileInvalid, null, "is empty (null).", filePath,
                    "Remove the file and configure again with the ReplyAdmin cmdlets.", filePath, kind: ReplyAdminErrorKind.InvalidData);
            configuration.Lists = configuration.Lists ?? new System.Collections.Generic.List<ReplyList>();
            foreach (var list in configuration.Lists)
                if (list != null) list.ForwardTo = list.ForwardTo ?? new System.Collections.Generic.List<string>();
            try
            {
                ConfigurationValidator.Validate(configuration);
            }
            catch (ConfigurationException e) when (filePath != null)
            {
                throw e.InFile(filePath);
            }
            return configuration;
        }

        /// <summary>Serializes a configuration as the file stores it.</summary>
        public static string ToJson(ReplyAdminConfiguration configuration) => JsonSerializer.Serialize(configuration, JsonOptions);

        /// <summary>
        /// Reads the current file, applies <paramref name="change"/>, validates and writes the result, all under
        /// the file's lock, so concurrent writers each see the other's change.
        /// </summary>
        /// <typeparam name="T">What the change returns (e.g. the changed list).</typeparam>
        /// <param name="change">Changes the configuration in place; throws to abort without writing.</param>
        /// <returns>The value <paramref name="change"/> returned.</returns>
        /// <exception cref="ConfigurationException">The changed configuration is invalid (nothing is written).</exception>
        /// <exception cref="ReplyAdminException">The lock could not be taken in time, or the file could not be written.</exception>
        public T Update<T>(Func<ReplyAdminConfiguration, T> change)
        {
            var directory = System.IO.Path.GetDirectoryName(Path);
            UnixPermissions.CreateOwnerDirectory(directory);
            using (AcquireLock())
            {
                var configuration = Load(lockHeld: true);
                var result = change(configuration);
                ConfigurationValidator.Validate(configuration);
                configuration.SchemaVersion = ReplyAdminConfiguration.CurrentSchemaVersion;
                WriteAtomically(ToJson(configuration));
                return result;
            }
        }

        private void WriteAtomically(string json)
        {
            var temp = $"{Path}.{Guid.NewGuid():N}.tmp";
            try
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    // Owner-only before the first byte: it names the servers, logins and pinned certificates.
                    UnixPermissions.Set(temp, UnixPermissions.OwnerFile);
                    var bytes = new UTF8Encoding(false).GetBytes(json + "\n");
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(flushToDisk: true);
                }
                if (File.Exists(Path))
                    File.Replace(temp, Path, null);
                else
                    File.Move(temp, Path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.ConfigurationWriteFailed, ReplyAdminErrorKind.WriteError,
                    $"The configuration file '{Path}' could not be written: {e.Message}", Path,
                    "Check that the directory exists and is writable by this account.", e);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
        }

        // An exclusive open of a side file is the one lock that works across processes on Windows and Unix alike.
        // The lock file stays: deleting it on close would let a waiter lock the unlinked file while a third
        // process locks a new one.
        private IDisposable AcquireLock()
        {
            var lockPath = Path + ".lock";
            var watch = Stopwatch.StartNew();
            var delay = 5;
            while (true)
            {
                try
                {
                    return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                }
                catch (IOException) when (watch.Elapsed < LockTimeout)
                {
                    Thread.Sleep(delay);
                    delay = Math.Min(delay * 2, 100);
                }
                catch (IOException e)
                {
                    throw new ReplyAdminException(ErrorIds.ConfigurationLocked, ReplyAdminErrorKind.ResourceUnavailable,
                        $"The configuration file '{Path}' stayed locked by another process for {LockTimeout.TotalSeconds:0} s.", lockPath,
                        $"Wait for the other change to finish; if no ReplyAdmin process is running, delete '{lockPath}'.", e);
                }
            }
        }

        private static string FirstSentence(string message)
        {
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            return cut > 0 ? message.Substring(0, cut) : message;
        }
    }
}
