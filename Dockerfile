# A small static image: pure-Go SQLite and Postgres drivers, no cgo.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .dockerignore keeps .git out, so the version comes in as a build argument.
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/twinid/twinid/server/metrics.Version=${VERSION}" -o /out/twinid ./cmd/twinid && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/twinid /twinid
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV TWINID_DATA_DIR=/data TWINID_LISTEN=:8080
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/twinid"]
CMD ["serve"]
