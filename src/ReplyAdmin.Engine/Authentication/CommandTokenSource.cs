using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>
    /// An external command prints the token: either the token alone on its first line, or JSON with <c>access_token</c>
    /// and <c>expires_in</c> (seconds). It gets the mailbox in REPLYADMIN_OAUTH_USER. Its output is never shown.
    /// </summary>
    internal sealed class CommandTokenSource : ITokenSource
    {
        private readonly string _command;
        private readonly string _userName;
        private readonly TimeSpan _timeout;
        private readonly string _field;

        public CommandTokenSource(string command, string userName, TimeSpan timeout, string field)
        {
            _command = command;
            _userName = userName;
            _timeout = timeout;
            _field = field;
        }

        public string Description => "command " + _command;

        public async Task<AccessToken> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
        {
            var windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            var start = new ProcessStartInfo(windows ? "cmd.exe" : "/bin/sh", windows ? "/d /c " + _command : "-c \"" + _command.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                CreateNoWindow = true,
            };
            start.Environment["REPLYADMIN_OAUTH_USER"] = _userName;
            start.Environment["REPLYADMIN_OAUTH_REFRESH"] = forceRefresh ? "1" : "0";
            Process process;
            try
            {
                process = Process.Start(start);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException)
            {
                throw Failed($"it could not be started: {e.Message}", null);
            }
            using (process)
            {
                process.StandardInput.Close();
                var output = process.StandardOutput.ReadToEndAsync();
                var error = process.StandardError.ReadToEndAsync();
                var exited = Task.Run(() => process.WaitForExit((int)_timeout.TotalMilliseconds));
                using (cancellationToken.Register(() => { try { process.Kill(); } catch (InvalidOperationException) { } }))
                {
                    if (!await exited.ConfigureAwait(false))
                    {
                        try { process.Kill(); } catch (InvalidOperationException) { }
                        throw Failed($"it did not finish within {_timeout.TotalSeconds:0} s", null);
                    }
                }
                cancellationToken.ThrowIfCancellationRequested();
                var text = await output.ConfigureAwait(false);
                var stderr = (await error.ConfigureAwait(false)).Trim();
                if (process.ExitCode != 0)
                    throw Failed($"it exited with code {process.ExitCode}", stderr);
                return Parse(text) ?? throw Failed("it printed no token", stderr);
            }
        }

        internal static AccessToken Parse(string text)
        {
            text = (text ?? string.Empty).Trim();
            if (text.StartsWith("{", StringComparison.Ordinal))
            {
                try
                {
                    using (var json = JsonDocument.Parse(text))
                    {
                        var root = json.RootElement;
                        if (!root.TryGetProperty("access_token", out var value) || value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
                            return null;
                        DateTimeOffset? expires = null;
                        if (root.TryGetProperty("expires_in", out var seconds) && seconds.ValueKind == JsonValueKind.Number)
                            expires = DateTimeOffset.UtcNow.AddSeconds(seconds.GetDouble());
                        return new AccessToken(value.GetString(), expires);
                    }
                }
                catch (JsonException)
                {
                    return null;
                }
            }
            var line = text.Split('\n')[0].Trim();
            return line.Length == 0 || line.IndexOf(' ') >= 0 ? null : new AccessToken(line, null);
        }

        // Standard error is shown (shortened) to help; standard output never is, it is the token.
        private ReplyAdminException Failed(string why, string stderr) => new ReplyAdminException(ErrorIds.OAuthCommandFailed, ReplyAdminErrorKind.AuthenticationError,
            $"The token command of {_field} failed: {why}.{(string.IsNullOrEmpty(stderr) ? "" : " It said: " + (stderr.Length > 300 ? stderr.Substring(0, 300) + "..." : stderr))}",
            _field + ".command", "Run the command by hand as the account that runs ReplyAdmin and fix what it reports; it must print the token (or JSON with access_token) and exit with 0.");
    }
}
